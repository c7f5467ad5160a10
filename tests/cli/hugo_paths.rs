//! Site-absolute paths on a Hugo site resolve the way Hugo serves them: page URLs lowercased
//! (unless `disablePathToLower`), and `assets/` searched as the `figure` shortcode does.

use crate::support::*;

const PAGE: &str = "\
# 2019 in review

![GitHub in 2019](/blog/2019-year-in-review/images/github2019.png)

{{< figure src=\"/images/examples/zion-national-park.jpg\" >}}
";

fn hugo_site(hugo_config: &str) -> Site {
    let site = Site::empty("");
    site.write("config.toml", hugo_config);
    site.write("content/blog/2019-Year-in-Review/index.md", PAGE);
    site.write(
        "content/blog/2019-Year-in-Review/images/github2019.png",
        fixture_bytes("hugo/static/img/diagram.png"),
    );
    site.write(
        "assets/images/examples/zion-national-park.jpg",
        fixture_bytes("hugo/static/img/photo.jpg"),
    );
    site
}

#[test]
fn lowercased_bundle_urls_and_assets_resolve_on_a_hugo_site() {
    let site = hugo_site("baseURL = 'https://example.org/'\n");
    let run = site.run(&["sync"]);
    run.expect_code(0);
    assert!(Run::positions(&run.stderr).is_empty(), "{}", run.dump());
    let page = site.read_string("content/blog/2019-Year-in-Review/index.md");
    assert!(
        !page.contains("(/blog/") && !page.contains("src=\"/images/"),
        "both references are lifted:\n{page}"
    );
    assert_eq!(page.matches(PUBLIC_URL).count(), 2, "{page}");
}

#[test]
fn with_disable_path_to_lower_the_lowercased_url_is_broken() {
    let site = hugo_site("baseURL = 'https://example.org/'\ndisablePathToLower = true\n");
    let run = site.run(&["check"]);
    run.expect_code(1);
    assert!(
        run.stderr_line("content/blog/2019-Year-in-Review/index.md:3:19")
            .contains("not found"),
        "{}",
        run.dump()
    );
    // assets/ is still searched.
    assert_eq!(Run::positions(&run.stdout).len(), 1, "{}", run.dump());
}

#[test]
fn without_a_hugo_config_neither_rule_applies() {
    let site = hugo_site("");
    std::fs::remove_file(site.path("config.toml")).unwrap();
    let run = site.run(&["check"]);
    run.expect_code(1);
    assert_eq!(
        Run::positions(&run.stderr),
        [
            "content/blog/2019-Year-in-Review/index.md:3:19",
            "content/blog/2019-Year-in-Review/index.md:5:17"
        ],
        "{}",
        run.dump()
    );
}
