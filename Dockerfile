# HelloJohn Console: build with the .NET SDK, run on the ASP.NET runtime with PostgreSQL's client programs.
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish HelloJohn.Console.Web -c Release -o /app --nologo

# The .NET 10 runtime image is Ubuntu 24.04 "noble", whose own archive carries only PostgreSQL 16's client. PostgreSQL's
# apt repository (apt.postgresql.org, suite noble-pgdg) carries every supported major version: pg_dump must be at least
# as new as the newest server the console protects, so the client is 17 (the console refuses a backup otherwise).
FROM mcr.microsoft.com/dotnet/aspnet:10.0
ARG PG_CLIENT_MAJOR=17
# The server programs (not a cluster: the package creates none) run the console's private scratch cluster for
# verifications.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && install -d /usr/share/postgresql-common/pgdg /etc/postgresql-common \
 && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
 && curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt noble-pgdg main" \
    > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update \
 && apt-get install -y --no-install-recommends postgresql-client-${PG_CLIENT_MAJOR} postgresql-${PG_CLIENT_MAJOR} zstd \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app .
# Production unless the deployment says otherwise; curl stays for the compose healthcheck on /health. Two malloc
# arenas: glibc's default (eight per core) kept what libzstd's worker threads freed, some 20 MB more after every backup.
ENV ASPNETCORE_ENVIRONMENT=Production \
    MALLOC_ARENA_MAX=2 \
    ASPNETCORE_URLS=http://0.0.0.0:8080 \
    HELLOJOHN_CONSOLE_DATA=/var/lib/hellojohn-console \
    HELLOJOHN_PG_BIN=/usr/lib/postgresql/${PG_CLIENT_MAJOR}/bin
VOLUME /var/lib/hellojohn-console
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD curl -fsS http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["dotnet", "HelloJohn.Console.Web.dll"]
