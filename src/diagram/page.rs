//! The HTML page: the model as JSON inside the page, drawn into an SVG by the page's
//! own script, with its stylesheet inline. Nothing is fetched: the page opens from a
//! file, offline, in any browser.

use super::Model;

const STYLE: &str = include_str!("diagram.css");
const SCRIPT: &str = include_str!("diagram.js");

/// The whole page for `model`.
pub fn page(model: &Model) -> String {
    let data = serde_json::to_string(model).expect("diagram models serialize");
    let mut out = String::with_capacity(data.len() + STYLE.len() + SCRIPT.len() + 2048);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!(
        "<title>{}</title>\n",
        escape_html(if model.title.is_empty() {
            "gauntlet run"
        } else {
            &model.title
        })
    ));
    out.push_str("<style>\n");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n");
    out.push_str(BODY);
    // In a JSON script block only `<` could end the element early (`</script>`, `<!--`);
    // it appears in JSON only inside strings, where `\u003c` means the same character.
    out.push_str("<script type=\"application/json\" id=\"model\">");
    out.push_str(&data.replace('<', "\\u003c"));
    out.push_str("</script>\n<script>\n");
    out.push_str(SCRIPT);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

/// The page's fixed structure; the script fills it in.
const BODY: &str = r#"<header id="top">
  <h1 id="title"></h1>
  <span id="counts"></span>
  <span class="controls">
    <button id="zoom-out" title="zoom out (ctrl + wheel)">&minus;</button>
    <button id="zoom-in" title="zoom in (ctrl + wheel)">+</button>
    <button id="zoom-fit" title="fit the run's height">fit</button>
    <label><input type="checkbox" id="labels" checked> labels</label>
  </span>
</header>
<main>
  <div id="scroller">
    <div id="lane-heads"></div>
    <svg id="diagram" xmlns="http://www.w3.org/2000/svg"></svg>
  </div>
  <aside id="panel">
    <section id="violations"><h2>Violations</h2><div id="violation-list"></div></section>
    <section id="selected"><h2>Selected event</h2><div id="selection">Click an event or an arrow.</div></section>
    <section id="legend"><h2>Legend</h2><div id="legend-body"></div></section>
  </aside>
</main>
"#;

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}
