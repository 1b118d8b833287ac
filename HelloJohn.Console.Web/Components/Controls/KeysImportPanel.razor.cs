using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>Paste or upload of the signing key. The pasted text is dropped as soon as the key is stored, so the page
/// never shows it again.</summary>
public partial class KeysImportPanel
{
    private string _pem = "";
    private string? _error;
    private bool _working;

    /// <summary>Stores pasted PEM text; returns the service's message when it was refused, null when stored.</summary>
    [Parameter, EditorRequired]
    public Func<string, Task<string?>> ImportText { get; set; } = default!;

    /// <summary>Stores an uploaded PEM file; returns the service's message when it was refused, null when stored.</summary>
    [Parameter, EditorRequired]
    public Func<IBrowserFile, Task<string?>> ImportFile { get; set; } = default!;

    [Parameter]
    public bool Disabled { get; set; }

    private async Task ImportPastedAsync()
    {
        _working = true;
        try
        {
            _error = await ImportText(_pem);
            if (_error is null)
            {
                _pem = "";
            }
        }
        finally
        {
            _working = false;
        }
    }

    private async Task ImportUploadedAsync(IBrowserFile? file)
    {
        if (file is null)
        {
            return;
        }

        _working = true;
        try
        {
            _error = await ImportFile(file);
            if (_error is null)
            {
                _pem = "";
            }
        }
        finally
        {
            _working = false;
        }
    }
}
