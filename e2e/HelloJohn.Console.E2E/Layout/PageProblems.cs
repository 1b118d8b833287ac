using System.Collections.Concurrent;
using Microsoft.Playwright;

namespace HelloJohn.Console.E2E.Layout;

/// <summary>What a person would see go wrong on a page: content wider than the window (the page or a table scrolling
/// sideways) and errors in the browser's console, failed requests (a missing favicon) included.</summary>
public sealed class PageProblems
{
    private readonly ConcurrentQueue<string> _errors = new();

    /// <summary>Starts listening to <paramref name="page"/>'s console, uncaught errors and failed responses.</summary>
    public static PageProblems Watch(IPage page)
    {
        var problems = new PageProblems();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                problems._errors.Enqueue($"console error on {page.Url}: {message.Text}");
            }
        };
        page.PageError += (_, error) => problems._errors.Enqueue($"uncaught error on {page.Url}: {error}");
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                problems._errors.Enqueue($"{response.Status} for {response.Url} (on {page.Url})");
            }
        };
        return problems;
    }

    /// <summary>The errors seen since the last call, and forgets them.</summary>
    public IReadOnlyList<string> TakeErrors()
    {
        var taken = new List<string>();
        while (_errors.TryDequeue(out var e))
        {
            taken.Add(e);
        }

        return taken;
    }

    /// <summary>Every horizontal overflow on the page now: the document itself, the main content, and every table
    /// container (MudBlazor's grids and tables scroll inside their container instead of widening the page).</summary>
    public static async Task<IReadOnlyList<string>> HorizontalOverflowsAsync(IPage page) =>
        await page.EvaluateAsync<string[]>("""
            () => {
              const found = [];
              const name = el => el.getAttribute('data-testid') || el.closest('[data-testid]')?.getAttribute('data-testid') || el.className || el.tagName;
              const de = document.documentElement;
              if (de.scrollWidth > de.clientWidth + 1) found.push(`the page is ${de.scrollWidth} px wide in a ${de.clientWidth} px window`);
              const main = document.querySelector('.mud-main-content');
              if (main && main.scrollWidth > main.clientWidth + 1) found.push(`the main content is ${main.scrollWidth} px wide in ${main.clientWidth} px`);
              for (const el of document.querySelectorAll('.mud-table-container, .mud-table, table')) {
                const box = el.tagName === 'TABLE' ? el.parentElement : el;
                if (box.scrollWidth > box.clientWidth + 1) found.push(`table ${name(box)} is ${box.scrollWidth} px wide in ${box.clientWidth} px`);
              }
              for (const el of document.querySelectorAll('.mud-main-content *')) {
                const r = el.getBoundingClientRect();
                if (r.width > 0 && r.right > de.clientWidth + 1 && getComputedStyle(el).position !== 'fixed') {
                  found.push(`${el.tagName.toLowerCase()} ${name(el)} ends at ${Math.round(r.right)} px, past the window's ${de.clientWidth} px`);
                  break;
                }
              }
              return [...new Set(found)];
            }
            """);
}
