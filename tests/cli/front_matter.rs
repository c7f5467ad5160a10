//! Front matter that its parser rejects: the problem is shown at the page's own
//! `file:line:col` (not the line of the front matter counted from its fence, nor in words),
//! its images are left alone, and the body's images are still lifted.

use crate::support::*;

#[test]
fn invalid_front_matter_is_reported_at_the_pages_line_and_column() {
    let site = Site::empty("front_matter: [image]\n");
    site.write(
        "static/img/a.png",
        fixture_bytes("hugo/static/img/diagram.png"),
    );
    let yaml = "---\ntitle: x\nimage: /img/a.png\n  bad: indent\n---\n\n![a](/img/a.png)\n";
    let toml =
        "+++\ntitle = \"x\"\nimage = \"/img/a.png\"\ndate = 2024-13-45\n+++\n\n![a](/img/a.png)\n";
    site.write("content/yaml.md", yaml);
    site.write("content/toml.md", toml);
    let run = site.run(&["sync"]);
    run.expect_code(0);
    assert_eq!(
        run.stderr_line("content/yaml.md:4:6"),
        "content/yaml.md:4:6: warning: front matter is not valid YAML (mapping values are not \
         allowed in this context); its images are left alone"
    );
    let toml_line = run.stderr_line("content/toml.md:4:8");
    assert!(
        toml_line.starts_with("content/toml.md:4:8: warning: front matter is not valid TOML (")
            && toml_line.ends_with("); its images are left alone")
            && !toml_line.contains(" line "),
        "{}",
        run.dump()
    );
    // Only the body's reference of each page is rewritten; the front matter stays as it was.
    for (page, text) in [("content/yaml.md", yaml), ("content/toml.md", toml)] {
        let now = site.read_string(page);
        let (head, body) = text.split_at(text.find("![a]").unwrap());
        assert!(now.starts_with(head), "{page}: {now}");
        assert_eq!(lifted_keys(&now[head.len()..]).len(), 1, "{page}: {now}");
        assert_ne!(&now[head.len()..], body);
    }
}
