# HelloJohn Console: build with the .NET SDK, run on the ASP.NET runtime with PostgreSQL's client programs.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish HelloJohn.Console.Web -c Release -o /app --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0
# pg_dump/pg_restore must be at least as new as the server they talk to; bump with the server. The server programs
# run the console's private scratch cluster for verifications (no cluster of the package's own is created).
RUN mkdir -p /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
ENV ASPNETCORE_URLS=http://0.0.0.0:8080 \
    HELLOJOHN_CONSOLE_DATA=/var/lib/hellojohn-console \
    HELLOJOHN_PG_BIN=/usr/lib/postgresql/15/bin
VOLUME /var/lib/hellojohn-console
EXPOSE 8080
ENTRYPOINT ["dotnet", "HelloJohn.Console.Web.dll"]
