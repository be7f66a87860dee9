// The admin page's stylesheet, inlined into the page (allowed by a CSP hash, so no 'unsafe-inline').
// Plain and readable: system fonts, high contrast, visible focus, works from phone width up.
export const PAGE_STYLE = String.raw`
:root {
  --fg: #1b1f24; --muted: #57606a; --bg: #f6f8fa; --card: #fff; --line: #d0d7de;
  --accent: #0b5cad; --ok: #1a7f37; --warn: #9a6700; --bad: #b3261e;
  --sent: #4a78b5; --bounced: #b3261e; --complained: #b35c00;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem 1rem;
  padding: .75rem 1.5rem; background: var(--card); border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 1.25rem; }
header nav { display: flex; flex-wrap: wrap; gap: .5rem .75rem; align-items: center; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; display: grid; gap: 1rem;
  grid-template-columns: minmax(0, 1fr); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.25rem; }
section h2 { margin: 0 0 .75rem; font-size: 1.1rem; }
section h3 { margin: 1rem 0 .25rem; font-size: 1rem; }
a { color: var(--accent); }
button { font: inherit; padding: .35rem .9rem; border: 1px solid var(--accent); border-radius: 6px;
  background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: var(--card); color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
button:disabled { opacity: .5; cursor: default; }
input, select { font: inherit; padding: .3rem .5rem; border: 1px solid var(--muted); border-radius: 6px; min-width: 0; }
:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
form.row { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: .5rem 0; }
form.row label { display: flex; flex-direction: column; font-size: .9rem; color: var(--muted); }
form.row label { max-width: 100%; }
form.row label input[type=text], form.row label input:not([type]) { min-width: min(18rem, 100%); }
input[type=file] { max-width: 100%; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: .75rem; margin: 0; }
.cards > div { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem; }
.cards dt { font-size: .85rem; color: var(--muted); }
.cards dd { margin: 0; font-size: 1.35rem; font-weight: 600; }
.cards dd small { display: block; font-size: .85rem; font-weight: 400; color: var(--muted); }
.level-ok { color: var(--ok); } .level-warning { color: var(--warn); } .level-critical { color: var(--bad); }
.banner { padding: .5rem .75rem; border-radius: 6px; margin-bottom: .75rem; border: 1px solid; }
.banner.hold { background: #fff4e5; border-color: var(--warn); }
.banner.running { background: #eefbf1; border-color: var(--ok); }
#status { max-width: 72rem; margin: .75rem auto 0; padding: 0 1.5rem; min-height: 1.5rem; }
#status.error, p.error { color: var(--bad); font-weight: 600; }
.banner.stale { background: #fdecea; border-color: var(--bad); }
#app.stale #glance, #app.stale #chart, #app.stale #hold-banner { opacity: .5; }
#chart svg { width: 100%; height: auto; max-height: 320px; display: block; }
#chart text { font-size: 12px; fill: var(--muted); }
.legend { display: flex; gap: 1.25rem; flex-wrap: wrap; font-size: .9rem; margin-top: .25rem; }
.swatch-sent { background: var(--sent); } .swatch-bounced { background: var(--bounced); }
.swatch-complained { background: var(--complained); }
.swatch { display: inline-block; width: .9rem; height: .9rem; margin-right: .35rem; vertical-align: -2px; border-radius: 2px; }
#days-table { overflow-x: auto; }
table { border-collapse: collapse; font-size: .9rem; }
th, td { text-align: right; padding: .2rem .6rem; border-bottom: 1px solid var(--line); }
th:first-child, td:first-child { text-align: left; }
.record { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; margin: .5rem 0; }
.record dt { color: var(--muted); } .record dd { margin: 0; overflow-wrap: anywhere; }
ol.timeline { padding-left: 1.25rem; } ol.timeline li { margin: .35rem 0; }
ol.timeline time { font-variant-numeric: tabular-nums; color: var(--muted); margin-right: .5rem; }
.tag { display: inline-block; font-size: .8rem; padding: 0 .4rem; border-radius: 4px; background: #eaeef2; margin-right: .4rem; }
#token-form { max-width: 72rem; margin: 1rem auto; padding: 1rem 1.5rem; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
.hint { color: var(--muted); font-size: .9rem; }
ul.problems { margin: .25rem 0; padding-left: 1.25rem; overflow-wrap: anywhere; }
@media (max-width: 30rem) {
  header, main, #status { padding-left: .75rem; padding-right: .75rem; }
  section { padding: .75rem; }
}
`;
