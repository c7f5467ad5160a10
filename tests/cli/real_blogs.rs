//! What real blogs do that the fixtures did not: an image in a heading, a destination that
//! starts with a no-break space, an `<img>` inside a script string.

use crate::support::*;

fn site_with(page: &str) -> Site {
    let site = Site::empty("");
    site.write(
        "content/a.png",
        fixture_bytes("demo/static/images/avatar.png"),
    );
    site.write("content/p.md", page);
    site
}

#[test]
fn an_image_in_a_heading_is_lifted_with_a_warning_saying_how_to_pin_the_id() {
    let page = "# Post\n\n## ![logo](a.png) Intro\n\nSee [intro](#intro).\n\n## Pinned ![l](a.png) {#pinned}\n";
    let site = site_with(page);
    let run = site.run(&["sync"]);
    run.expect_code(0);
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("heading"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", run.dump());
    assert!(
        warnings[0].contains("content/p.md:3:12") && warnings[0].contains("{#intro}"),
        "{}",
        warnings[0]
    );
    // Lifted all the same: the warning is advice, not a refusal.
    assert!(!site.read_string("content/p.md").contains("](a.png)"));
}

#[test]
fn a_destination_starting_with_a_no_break_space_stays_broken_as_in_the_original() {
    let page = "![a](\u{a0}a.png)\n";
    let site = site_with(page);
    let run = site.run(&["sync", "--strict"]);
    run.expect_code(1);
    assert!(
        run.stderr.contains("content/p.md:1:6") && run.stderr.contains("not found"),
        "{}",
        run.dump()
    );
    assert_eq!(site.read_string("content/p.md"), page);
    assert!(site.manifest_entries().is_empty());
}

#[test]
fn an_img_inside_a_script_string_is_not_rewritten() {
    let page = "<script>\ndocument.write('<img src=\"a.png\">');\n</script>\n\n\
                Inline <script>var s = \"<img src='a.png'>\";</script> text.\n\n![shown](a.png)\n";
    let site = site_with(page);
    site.run(&["sync"]).expect_code(0);
    let after = site.read_string("content/p.md");
    let expected_kept = [
        "document.write('<img src=\"a.png\">');",
        "var s = \"<img src='a.png'>\";",
    ];
    for kept in expected_kept {
        assert!(after.contains(kept), "{after}");
    }
    assert!(!after.contains("](a.png)"), "{after}");
}
