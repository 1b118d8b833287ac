using HelloJohn.Console.Core.Runs;
using HelloJohn.Console.Core.Security;
using MudBlazor;

namespace HelloJohn.Console.Web.Components.Controls;

/// <summary>What a page's Cancel button does with its run's service: says what the cancel did, treats a run that ended
/// just as the button was pressed as nothing wrong, and returns the refusal to show when there was one.</summary>
public static class RunCancel
{
    /// <param name="cancel">The run's service's CancelAsync.</param>
    /// <param name="stillActive">Whether the run is still queued or running, read again.</param>
    /// <param name="snackbar">Where the outcome is said.</param>
    /// <param name="subject">How the run is named ("The restore into hellojohn_restore").</param>
    /// <returns>The refusal to show as an error, or null.</returns>
    public static async Task<string?> CancelAsync(Func<Task<RunCancelResult>> cancel, Func<Task<bool>> stillActive, ISnackbar snackbar, string subject)
    {
        try
        {
            var result = await cancel();
            snackbar.Add($"{subject}: {result.Message}", Severity.Warning);
            return null;
        }
        catch (InvalidOperationException e)
        {
            if (await stillActive())
            {
                return e.Message;
            }

            // It ended as the button was pressed: there is nothing left to cancel.
            snackbar.Add(e.Message, Severity.Info);
            return null;
        }
        catch (Exception e) when (e is PermissionDeniedException or KeyNotFoundException)
        {
            return e.Message;
        }
    }
}
