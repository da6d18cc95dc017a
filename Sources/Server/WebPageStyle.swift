extension WebPage {
    /// `/assets/page.css`: one column on a phone, photo beside the answer on wider screens.
    static let css = """
        :root { --ink: #1d2330; --muted: #5b6475; --line: #d9dee8; --accent: #2f6fde; --bad: #b3261e; --paper: #f6f7fb; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--paper); }
        header, main, footer { max-width: 960px; margin: 0 auto; padding: 0 16px; }
        h1 { font-size: 1.6rem; margin: 24px 0 4px; }
        .weights { margin: 0 0 16px; color: var(--muted); overflow-wrap: anywhere; }
        .banner { background: var(--bad); color: #fff; padding: 12px 16px; font-size: 1.05rem; }
        .banner.notice { background: #fff4d6; color: #5c4300; border-bottom: 1px solid #e8c97a; font-size: .95rem; }
        .banner[hidden] { display: none; }
        .drop { border: 2px dashed var(--line); border-radius: 12px; background: #fff; padding: 28px 16px; text-align: center; }
        .drop.dragging, .drop:focus { border-color: var(--accent); outline: none; background: #eef3fd; }
        .drop p { margin: 6px 0; }
        .hint { color: var(--muted); font-size: .9rem; }
        .button { display: inline-block; background: var(--accent); color: #fff; border-radius: 8px; padding: 10px 18px; cursor: pointer; font-weight: 600; }
        .button input { position: absolute; width: 1px; height: 1px; opacity: 0; }
        .error { background: #fdecea; color: var(--bad); border: 1px solid #f4c7c3; border-radius: 8px; padding: 10px 14px; overflow-wrap: anywhere; }
        .error[hidden], .output[hidden] { display: none; }
        .output { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); gap: 24px; margin-top: 24px; }
        figure { margin: 0; }
        figure img { width: 100%; max-height: 420px; object-fit: contain; background: #fff; border-radius: 12px; border: 1px solid var(--line); }
        figcaption { color: var(--muted); font-size: .85rem; overflow-wrap: anywhere; }
        #status { margin: 0 0 8px; color: var(--muted); }
        .results { list-style: none; margin: 0; padding: 0; }
        .results li { margin: 0 0 12px; }
        .row { display: flex; justify-content: space-between; gap: 12px; }
        .label { font-weight: 600; overflow-wrap: anywhere; }
        .percent { font-variant-numeric: tabular-nums; color: var(--muted); white-space: nowrap; }
        .bar { height: 10px; background: #e4e8f0; border-radius: 5px; overflow: hidden; margin-top: 4px; }
        .fill { height: 100%; min-width: 2px; background: var(--accent); border-radius: 5px; }
        .timings { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; font-size: .9rem; color: var(--muted); margin: 16px 0 0; }
        .timings dd { margin: 0; font-variant-numeric: tabular-nums; }
        .account { display: flex; justify-content: flex-end; align-items: center; gap: 12px; padding-top: 12px; color: var(--muted); font-size: .9rem; }
        .account[hidden] { display: none; }
        .account a { color: var(--accent); }
        .account form { margin: 0; }
        .account button { background: none; border: 1px solid var(--line); border-radius: 6px; padding: 4px 10px; font: inherit; cursor: pointer; }
        footer { color: var(--muted); font-size: .85rem; margin: 32px auto 24px; }
        footer a { color: var(--accent); }
        @media (max-width: 640px) {
          .output { grid-template-columns: 1fr; }
          h1 { font-size: 1.3rem; }
        }
        """
}
