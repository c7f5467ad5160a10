//! Jekyll's Markdown is kramdown: an `<img>` indented inside a block-level HTML element after a
//! blank line is HTML there (the browser shows it) but an indented code block to CommonMark.
//! imglift leaves it local and says so at its position, on Jekyll sites only.

use crate::support::*;

const PAGE: &str = "# Post\n\n<div class=\"gallery\">\n\n    <img src=\"/img/a.png\" alt=\"a\">\n</div>\n\n    <p>plain code, no image</p>\n";

fn site(jekyll: bool) -> Site {
    let site = Site::empty("");
    site.write(
        "static/img/a.png",
        fixture_bytes("hugo/static/img/diagram.png"),
    );
    site.write("content/post.md", PAGE);
    if jekyll {
        site.write("_config.yml", "title: blog\n");
    }
    site
}

#[test]
fn jekyll_site_warns_at_an_indented_img_inside_html_and_leaves_it() {
    let site = site(true);
    let run = site.run(&["sync"]);
    run.expect_code(0);
    let line = run.stderr_line("content/post.md:5:5");
    assert!(
        line.contains("warning: `<img>` indented inside an HTML block")
            && line.contains("remove the indentation"),
        "{}",
        run.dump()
    );
    assert_eq!(
        run.stderr.matches("indented inside an HTML block").count(),
        1,
        "{}",
        run.dump()
    );
    // It stays local: only URL bytes change, and this one is code to imglift's parser.
    assert_eq!(site.read_string("content/post.md"), PAGE);

    // Following the advice (no indentation) gets it lifted.
    site.write("content/post.md", PAGE.replace("    <img", "<img"));
    let run = site.run(&["sync"]);
    run.expect_code(0);
    assert!(!run.stderr.contains("indented inside"), "{}", run.dump());
    assert!(
        site.read_string("content/post.md")
            .contains(&format!("<img src=\"{PUBLIC_URL}/")),
        "{}",
        run.dump()
    );
}

#[test]
fn other_sites_read_it_as_code_without_a_word() {
    let site = site(false);
    let run = site.run(&["check"]);
    run.expect_code(0);
    assert!(!run.stderr.contains("indented inside"), "{}", run.dump());
    // Not a word about any position: no diagnostic at all, only the summary.
    assert!(run.stdout.is_empty(), "{}", run.dump());
    assert_eq!(
        Run::positions(&run.stderr),
        Vec::<String>::new(),
        "{}",
        run.dump()
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.dump());
    assert!(run.stderr.starts_with("imglift check: "), "{}", run.dump());
}

#[test]
fn an_indented_img_after_a_closed_element_is_code_for_kramdown_too() {
    let site = Site::empty("");
    site.write("_config.yml", "title: blog\n");
    site.write(
        "content/post.md",
        "<div>done</div>\n\n    <img src=\"/img/a.png\">\n",
    );
    let run = site.run(&["check"]);
    run.expect_code(0);
    assert!(!run.stderr.contains("indented inside"), "{}", run.dump());
    // Not a word about any position: no diagnostic at all, only the summary.
    assert!(run.stdout.is_empty(), "{}", run.dump());
    assert_eq!(
        Run::positions(&run.stderr),
        Vec::<String>::new(),
        "{}",
        run.dump()
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.dump());
    assert!(run.stderr.starts_with("imglift check: "), "{}", run.dump());
}
