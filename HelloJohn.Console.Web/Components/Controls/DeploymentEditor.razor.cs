using HelloJohn.Console.Core.Deployments;
using HelloJohn.Console.Core.Security;
using HelloJohn.Console.Core.Targets;
using Microsoft.AspNetCore.Components;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>Adds or changes a deployment: its server connection (never shown back), the databases it protects by name
/// and by pattern, HelloJohn's URL and provider. <b>Try</b> shows what the selection picks on the server without saving.</summary>
public partial class DeploymentEditor
{
    private string? _name;
    private string? _connection;
    private string? _databases;
    private string? _patterns;
    private string? _baseUrl;
    private TargetProvider _provider;
    private bool _busy;
    private string? _error;
    private DeploymentPreview? _preview;

    /// <summary>The deployment being changed; null to add one.</summary>
    [Parameter] public TargetSummary? Existing { get; set; }

    /// <summary>Who is making the change.</summary>
    [Parameter, EditorRequired] public Actor Actor { get; set; } = Actor.System;

    /// <summary>Called with a sentence for people once the deployment is saved.</summary>
    [Parameter] public EventCallback<string> OnSaved { get; set; }

    [Parameter] public EventCallback OnCancel { get; set; }

    [Inject] private DeploymentService Deployments { get; set; } = default!;

    protected override void OnInitialized()
    {
        if (Existing is { } e)
        {
            _name = e.Name;
            _databases = string.Join('\n', e.Selection.Databases);
            _patterns = string.Join('\n', e.Selection.Patterns);
            _baseUrl = e.BaseUrl;
            _provider = e.Provider;
        }
    }

    private DeploymentDraft Draft() => new(_name ?? "", _connection, _databases, _patterns, _baseUrl, _provider);

    private Task PreviewAsync() => AttemptAsync(async () => _preview = await Deployments.PreviewAsync(Actor, Existing?.Id, Draft(), CancellationToken.None));

    private Task SaveAsync() => AttemptAsync(async () =>
    {
        var draft = Draft();
        if (Existing is null)
        {
            await Deployments.AddAsync(Actor, draft, CancellationToken.None);
        }
        else
        {
            await Deployments.UpdateAsync(Actor, Existing.Id, draft, CancellationToken.None);
        }

        _connection = null;
        await OnSaved.InvokeAsync($"{draft.Name.Trim()} is saved: {draft.Selection}.");
    });

    private async Task AttemptAsync(Func<Task> action)
    {
        _busy = true;
        _error = null;
        try
        {
            await action();
        }
        catch (Exception e) when (e is DeploymentRejectedException or PermissionDeniedException or KeyNotFoundException)
        {
            // The messages name the server's address at most, never the connection string.
            _error = e.Message;
            _preview = null;
        }
        finally
        {
            _busy = false;
        }
    }
}
