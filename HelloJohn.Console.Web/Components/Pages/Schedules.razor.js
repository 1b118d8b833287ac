// The reader's IANA time zone, so schedules can be shown in it beside UTC.
export function timeZone() {
    return Intl.DateTimeFormat().resolvedOptions().timeZone ?? null;
}
