using MudBlazor;

namespace HelloJohn.Console.Web.Components.Layout;

public static class ConsoleTheme
{
    public static MudTheme Theme { get; } = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#2b4c7e",
            Secondary = "#567ebb",
            AppbarBackground = "#1f3557",
            Success = "#2e7d32",
            Error = "#c62828",
            Warning = "#ef6c00",
        },
        Typography = new Typography
        {
            Default = new DefaultTypography { FontFamily = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"] },
        },
    };
}
