//! The space-time diagram in a real browser: `run --html` on the lab scenario and
//! `replay --html` on a kept failure write pages that headless Chromium renders; the
//! rendered DOM must hold one arrow per delivered message of the text trace, a mark
//! for every event with its trace index, every witness event marked as one, and the
//! violation's text in the side panel; the screenshot must be a PNG.
//!
//! Chromium comes from `.ci/run` (Debian's `chromium`), so CI always runs these. On a
//! machine without it they say so loudly and pass, unless `CI` is set.

use crate::support::{gauntlet_out, repo, TempDir};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Chromium binary: `GAUNTLET_CHROMIUM`, or Debian's `/usr/bin/chromium`.
fn chromium() -> Option<PathBuf> {
    if let Ok(path) = std::env::var("GAUNTLET_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let debian = PathBuf::from("/usr/bin/chromium");
    if debian.exists() {
        return Some(debian);
    }
    if std::env::var_os("CI").is_some() {
        panic!("CI must have Chromium for the diagram tests (.ci/run installs Debian's chromium)");
    }
    eprintln!(
        "\n!!!!! SKIPPED: no Chromium (/usr/bin/chromium or GAUNTLET_CHROMIUM); the diagram's \
         browser checks did not run. `apt-get install chromium` or run .ci/run. !!!!!\n"
    );
    None
}

/// Headless Chromium with the flags a container needs (root: no sandbox).
fn headless(chromium: &Path, page: &Path, extra: &[&str]) -> std::process::Output {
    let url = format!("file://{}", page.display());
    Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--window-size=1400,900",
        ])
        .args(extra)
        .arg(&url)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", chromium.display()))
}

/// The page's DOM after its script ran.
fn rendered_dom(chromium: &Path, page: &Path) -> String {
    let out = headless(chromium, page, &["--dump-dom"]);
    assert!(out.status.success(), "chromium --dump-dom failed: {out:?}");
    String::from_utf8(out.stdout).expect("the DOM is UTF-8")
}

/// The value of attribute `name` in one tag's text, if present.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let len = tag[start..].find('"')?;
    Some(&tag[start..start + len])
}

/// The opening tags inside the drawn `<svg id="diagram">`.
fn svg_tags(dom: &str) -> Vec<&str> {
    let start = dom
        .find("<svg id=\"diagram\"")
        .expect("the page drew its diagram");
    let end = start + dom[start..].find("</svg>").expect("the diagram closes");
    dom[start..end]
        .split('<')
        .filter(|t| !t.starts_with('/'))
        .map(|t| t.split('>').next().unwrap_or(""))
        .collect()
}

/// What a text trace (`run --trace`, `replay`) says: the numbered event lines, the
/// witness indices (`>>`), and the violation lines.
struct TextTrace {
    events: usize,
    delivered: usize,
    witness: BTreeSet<usize>,
    violations: Vec<String>,
}

fn read_trace(stdout: &str) -> TextTrace {
    let mut trace = TextTrace {
        events: 0,
        delivered: 0,
        witness: BTreeSet::new(),
        violations: Vec::new(),
    };
    let mut in_trace = false;
    for line in stdout.lines() {
        if line.starts_with("trace") {
            in_trace = true;
            continue;
        }
        if line.starts_with("outcome:") {
            in_trace = false;
        }
        if let Some(v) = line.strip_prefix("VIOLATION ") {
            trace.violations.push(v.to_string());
        }
        if !in_trace {
            continue;
        }
        let marked = line.starts_with(">>");
        let index: usize = line
            .strip_prefix(">>")
            .unwrap_or(line)
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("a trace line starts with its index: {line}"));
        assert_eq!(index, trace.events, "trace lines are numbered in order");
        trace.events += 1;
        if line.contains(" recv <- ") {
            trace.delivered += 1;
        }
        if marked {
            trace.witness.insert(index);
        }
    }
    trace
}

/// Check the rendered page against the text trace of the same run.
fn check_page(chromium: &Path, page: &Path, trace: &TextTrace) {
    let dom = rendered_dom(chromium, page);
    let tags = svg_tags(&dom);
    let kind = |k: &'static str| {
        tags.iter()
            .filter(move |t| attr(t, "data-kind") == Some(k))
            .copied()
    };
    assert_eq!(
        kind("arrow").count(),
        trace.delivered,
        "one arrow per delivered message ({})",
        page.display()
    );
    let marks: Vec<usize> = kind("event")
        .map(|t| attr(t, "data-index").unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        marks,
        (0..trace.events).collect::<Vec<_>>(),
        "one mark per event, with the trace's index, in order"
    );
    let witnessed: BTreeSet<usize> = kind("event")
        .filter(|t| attr(t, "data-witness").is_some())
        .map(|t| attr(t, "data-index").unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        witnessed, trace.witness,
        "every witness event is marked, and only those"
    );
    assert_eq!(
        dom.matches("data-kind=\"violation\"").count(),
        trace.violations.len(),
        "one side-panel entry per violation"
    );
    for v in &trace.violations {
        let escaped = v
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(dom.contains(&escaped), "the panel shows `{v}`");
    }
    let dir = page.parent().unwrap();
    let png = dir.join("shot.png");
    let shot = format!("--screenshot={}", png.display());
    let out = headless(chromium, page, &[&shot]);
    assert!(
        out.status.success(),
        "chromium --screenshot failed: {out:?}"
    );
    let bytes = std::fs::read(&png).expect("the screenshot was written");
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.len() > 10_000,
        "a real PNG ({} bytes)",
        bytes.len()
    );
}

/// Lab 2 (A proposes, B a second later) through `run --scenario --trace --html`: every
/// message and every event is drawn, and the panel says every property held.
#[test]
fn lab_scenario_renders_in_chromium() {
    let Some(chromium) = chromium() else { return };
    let dir = TempDir::new("diagram-lab");
    let scenario = gauntlet::protocols::paxos::lab(42, &[('A', 0), ('B', 1_000)]);
    let file = dir.path().join("lab.json");
    std::fs::write(&file, serde_json::to_string(&scenario).unwrap()).unwrap();
    let page = dir.path().join("lab.html");
    let (code, out, err) = gauntlet_out(&[
        "run",
        "--scenario",
        file.to_str().unwrap(),
        "--trace",
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let trace = read_trace(&out);
    assert!(trace.delivered > 10, "the lab exchanges messages:\n{out}");
    check_page(&chromium, &page, &trace);
}

/// A kept failure through `replay FILE --html` (the "done when"): its witness
/// events are marked, and the violation's text is in the side panel.
#[test]
fn kept_failure_renders_with_its_witness() {
    let Some(chromium) = chromium() else { return };
    let dir = TempDir::new("diagram-failure");
    let page = dir.path().join("failure.html");
    let kept = repo(
        "corpus/known-failures/paxos-agreement-acceptor_forgets_accepted-f5ba4eb728dd632c.json",
    );
    let (code, out, err) = gauntlet_out(&[
        "replay",
        kept.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "a safety failure:\n{out}{err}");
    let trace = read_trace(&out);
    assert!(
        !trace.witness.is_empty() && !trace.violations.is_empty(),
        "{out}"
    );
    check_page(&chromium, &page, &trace);
}
