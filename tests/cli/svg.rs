//! SVGs as real tools write them (`fixtures/svg/`): an XML declaration, comments, a DOCTYPE with
//! an internal subset, a BOM, UTF-16, text with references. Each is an image by its bytes, so
//! each is lifted.

use crate::support::*;

#[test]
fn every_svg_header_variety_is_lifted_with_its_bytes() {
    let site = Site::fixture("svg");
    let before = site.read_string("content/index.md");
    let run = site.run(&["sync"]);
    run.expect_code(0);
    assert!(!run.stderr.contains("not an image"), "{}", run.dump());
    let after = site.read_string("content/index.md");
    let names = [
        "inkscape",
        "illustrator",
        "drawio",
        "matplotlib",
        "bom",
        "utf16",
        "utf16be",
        // An ampersand reference followed by a curly apostrophe (`AT&amp;T’s`): the script
        // check once sliced inside the `’` and crashed the run.
        "labels",
    ];
    for name in names {
        assert!(
            !after.contains(&format!("(/img/{name}.svg)")),
            "{name} stayed local:\n{after}"
        );
    }
    assert!(!after.contains("\"/img/inkscape.svg\""), "{after}");
    // Every object holds its file's bytes, under an .svg key, and nothing else changed in the
    // page but the destinations.
    let manifest = site.manifest_entries();
    assert_eq!(manifest.len(), names.len(), "{manifest:?}");
    for entry in &manifest {
        let (key, source, mime) = (&entry[0], &entry[4], &entry[3]);
        assert_eq!(mime, "image/svg+xml", "{entry:?}");
        assert_eq!(
            site.read(format!(".imglift-store/{key}")),
            site.read(source),
            "{key}"
        );
    }
    let unchanged = |text: &str| {
        text.lines()
            .filter(|l| !l.contains("/img/") && !l.contains(PUBLIC_URL))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(unchanged(&after), unchanged(&before));
}
