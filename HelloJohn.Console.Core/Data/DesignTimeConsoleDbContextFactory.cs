using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace HelloJohn.Console.Core.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting the app; it never connects.</summary>
internal sealed class DesignTimeConsoleDbContextFactory : IDesignTimeDbContextFactory<ConsoleDbContext>
{
    public ConsoleDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<ConsoleDbContext>().UseNpgsql("Host=localhost;Database=hellojohn_console_design").Options);
}
