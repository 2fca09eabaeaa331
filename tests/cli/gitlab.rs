//! The GitLab API source against a real HTTP server on 127.0.0.1 (mockito)
//! serving GitLab's response shapes: pagination headers, 429 + Retry-After,
//! 502, 401, 403 to a job token, `changes_count: "1000+"`, 3,000 files.

use crate::git::{FEATURE_CHANGES, FEATURE_CHANGES_API, History, history, merge_feature};
use crate::snapshot;
use crate::support::{CaptureServer, Output, assert_contains};
use mockito::{Matcher, Server, ServerGuard};
use serde_json::json;

const TOKEN: &str = "glpat-SECRET-never-printed-123";
const PROJECT: &str = "/api/v4/projects/ml%2Fmono";

/// The history with `feature` merged into main, the merge commit's SHA, and
/// a fresh loopback server.
fn merged() -> (History, String, ServerGuard) {
    let h = history();
    let sha = merge_feature(&h).to_string();
    (h, sha, Server::new())
}

/// Serves the commit's merge request list and the merge request itself.
fn serve_merge_request(server: &mut Server, mr: &serde_json::Value, sha: &str) {
    let iid = mr["iid"].as_u64().unwrap_or_default();
    server
        .mock(
            "GET",
            format!("{PROJECT}/repository/commits/{sha}/merge_requests").as_str(),
        )
        .with_body(json!([mr]).to_string())
        .create();
    server
        .mock("GET", format!("{PROJECT}/merge_requests/{iid}").as_str())
        .with_body(mr.to_string())
        .create();
}

fn merge_request(h: &History, iid: u64, merge_sha: &str, changes_count: &str) -> serde_json::Value {
    json!({
        "id": 1000 + iid, "iid": iid, "project_id": 42, "title": "Feature work",
        "state": "merged", "merged_at": "2026-11-20T10:00:00.000Z",
        "target_branch": "main", "source_branch": "feature",
        "sha": h.feature.to_string(), "merge_commit_sha": merge_sha, "squash_commit_sha": null,
        "changes_count": changes_count,
        "diff_refs": {"base_sha": h.base.to_string(), "head_sha": h.feature.to_string(), "start_sha": h.base.to_string()},
        "web_url": format!("https://gitlab.example.com/ml/mono/-/merge_requests/{iid}")
    })
}

fn file_diff(old: &str, new: &str, kind: &str) -> serde_json::Value {
    json!({
        "old_path": old, "new_path": new, "a_mode": "100644", "b_mode": "100644",
        "diff": "@@ -1 +1 @@\n-a\n+b\n",
        "new_file": kind == "A", "renamed_file": kind == "R", "deleted_file": kind == "D", "generated_file": false
    })
}

fn feature_diffs() -> serde_json::Value {
    json!([
        file_diff(
            "pipelines/p1/s1/modelserving.yaml",
            "pipelines/p1/s1/modelserving.yaml",
            "M"
        ),
        file_diff("pipelines/p1/s1/model.py", "pipelines/p1/s2/model.py", "R"),
        file_diff("pipelines/p2/s1/new.py", "pipelines/p2/s1/new.py", "A"),
        file_diff("pipelines/p3/s1/x.yaml", "pipelines/p3/s1/x.yaml", "D"),
    ])
}

/// Serves a merge request's diffs as a single page.
fn serve_one_page(server: &mut Server, iid: u64, diffs: &serde_json::Value) {
    server
        .mock("GET", format!("{PROJECT}/merge_requests/{iid}/diffs").as_str())
        .match_query(page_query(1))
        .with_header("x-total-pages", "1")
        .with_body(diffs.to_string())
        .create();
}

fn page_query(page: usize) -> Matcher {
    Matcher::AllOf(vec![
        Matcher::UrlEncoded("per_page".into(), "100".into()),
        Matcher::UrlEncoded("page".into(), page.to_string()),
    ])
}

/// Runs `childgen changes --verbose` as a default-branch pipeline would.
fn run(h: &History, server: &Server, sha: &str, token: (&str, &str)) -> Output {
    let url = format!("{}/api/v4", server.url());
    let before = h.main.to_string();
    let vars = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_COMMIT_SHA", sha),
        ("CI_COMMIT_BEFORE_SHA", before.as_str()),
        ("CI_API_V4_URL", url.as_str()),
        ("CI_PROJECT_ID", "ml/mono"),
        token,
    ];
    let out = h.env.run_with(&vars, &["changes", "--verbose"]);
    assert!(
        !out.stdout.contains(token.1) && !out.stderr.contains(token.1),
        "token leaked:\n{}",
        out.snapshot()
    );
    out
}

#[test]
fn the_merged_merge_request_comes_from_the_api() {
    let (h, sha, mut server) = merged();
    let commits = server
        .mock("GET", format!("{PROJECT}/repository/commits/{sha}/merge_requests").as_str())
        .match_header("private-token", TOKEN)
        .with_header("content-type", "application/json")
        .with_body(json!([{"iid": 3, "state": "opened", "target_branch": "main", "sha": "abc"}, merge_request(&h, 7, &sha, "4")]).to_string())
        .expect(1)
        .create();
    let mr = server
        .mock("GET", format!("{PROJECT}/merge_requests/7").as_str())
        .match_header("private-token", TOKEN)
        .with_body(merge_request(&h, 7, &sha, "4").to_string())
        .expect(1)
        .create();
    let diffs = server
        .mock("GET", format!("{PROJECT}/merge_requests/7/diffs").as_str())
        .match_query(page_query(1))
        .match_header("private-token", TOKEN)
        .with_header("x-total-pages", "1")
        .with_header("x-total", "4")
        .with_header("x-page", "1")
        .with_header("x-per-page", "100")
        .with_body(feature_diffs().to_string())
        .expect(1)
        .create();
    let out = run(&h, &server, &sha, ("GITLAB_TOKEN", TOKEN)).success();
    assert_eq!(out.stdout, FEATURE_CHANGES_API);
    assert!(
        out.stderr.contains("comes from merge request !7") && out.stderr.contains("token from GITLAB_TOKEN"),
        "{}",
        out.stderr
    );
    commits.assert();
    mr.assert();
    diffs.assert();
}

#[test]
fn a_3000_file_merge_request_over_30_pages() {
    let (h, sha, mut server) = merged();
    serve_merge_request(&mut server, &merge_request(&h, 9, &sha, "3000"), &sha);
    let mut pages = Vec::new();
    for page in 1..=30 {
        let files: Vec<serde_json::Value> = (0..100)
            .map(|i| {
                let n = (page - 1) * 100 + i;
                let path = format!("pipelines/p{:02}/s{}/file{n:04}.py", n % 30, n % 4);
                file_diff(&path, &path, if n % 7 == 0 { "A" } else { "M" })
            })
            .collect();
        let next = if page < 30 {
            (page + 1).to_string()
        } else {
            String::new()
        };
        let link = format!(
            "<{}{PROJECT}/merge_requests/9/diffs?page={}&per_page=100>; rel=\"next\"",
            server.url(),
            page + 1
        );
        pages.push(
            server
                .mock("GET", format!("{PROJECT}/merge_requests/9/diffs").as_str())
                .match_query(page_query(page))
                .with_header("x-total-pages", "30")
                .with_header("x-total", "3000")
                .with_header("x-page", &page.to_string())
                .with_header("x-next-page", &next)
                .with_header("link", &link)
                .with_body(serde_json::Value::Array(files).to_string())
                .expect(1)
                .create(),
        );
    }
    let out = run(&h, &server, &sha, ("GITLAB_TOKEN", TOKEN)).success();
    assert_eq!(out.stdout.lines().count(), 3000);
    assert!(
        out.stdout
            .starts_with("A\tpipelines/p00/s0/file0000.py\nM\tpipelines/p00/s0/file0060.py\n"),
        "{}",
        &out.stdout[..200]
    );
    assert_contains(&out.stderr, "30 pages, fetching 10 at a time");
    for page in pages {
        page.assert();
    }
}

#[test]
fn rate_limits_and_bad_gateways_are_retried() {
    let (h, sha, mut server) = merged();
    let commits_path = format!("{PROJECT}/repository/commits/{sha}/merge_requests");
    let limited = server
        .mock("GET", commits_path.as_str())
        .with_status(429)
        .with_header("retry-after", "1")
        .expect(1)
        .create();
    let ok = server
        .mock("GET", commits_path.as_str())
        .with_body(json!([merge_request(&h, 7, &sha, "4")]).to_string())
        .expect(1)
        .create();
    let mr_path = format!("{PROJECT}/merge_requests/7");
    let bad_gateway = server
        .mock("GET", mr_path.as_str())
        .with_status(502)
        .with_body("<html>502</html>")
        .expect(1)
        .create();
    let mr = server
        .mock("GET", mr_path.as_str())
        .with_body(merge_request(&h, 7, &sha, "4").to_string())
        .expect(1)
        .create();
    serve_one_page(&mut server, 7, &feature_diffs());
    let out = run(&h, &server, &sha, ("GITLAB_TOKEN", TOKEN)).success();
    assert_eq!(out.stdout, FEATURE_CHANGES_API);
    assert_contains(&out.stderr, "429 Too Many Requests, retrying in 1.0s");
    assert_contains(&out.stderr, "502 Bad Gateway, retrying in");
    for mock in [limited, ok, bad_gateway, mr] {
        mock.assert();
    }
}

#[test]
fn unauthorized_names_the_token_variable_and_scope_never_its_value() {
    let (h, sha, mut server) = merged();
    server
        .mock(
            "GET",
            format!("{PROJECT}/repository/commits/{sha}/merge_requests").as_str(),
        )
        .with_status(401)
        .with_body(json!({"message": "401 Unauthorized"}).to_string())
        .create();
    // Refused: a warning that names the variable and the scope, and the
    // changes from git (issue 8).
    let out = run(&h, &server, &sha, ("CHILDGEN_GITLAB_TOKEN", TOKEN)).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    let stderr = out.stderr.replace(&sha, "[SHA]");
    let warning = stderr
        .lines()
        .find(|l| l.starts_with("warning:"))
        .unwrap_or_default()
        .to_owned();
    crate::support::insta_settings().bind(|| insta::assert_snapshot!("gitlab_unauthorized", warning));
}

#[test]
fn a_job_token_refused_on_diffs_falls_back_to_git() {
    let (h, sha, mut server) = merged();
    server
        .mock(
            "GET",
            format!("{PROJECT}/repository/commits/{sha}/merge_requests").as_str(),
        )
        .match_header("job-token", "job-SECRET-123")
        .with_body(json!([merge_request(&h, 7, &sha, "4")]).to_string())
        .create();
    server
        .mock("GET", format!("{PROJECT}/merge_requests/7").as_str())
        .with_body(merge_request(&h, 7, &sha, "4").to_string())
        .create();
    server
        .mock("GET", format!("{PROJECT}/merge_requests/7/diffs").as_str())
        .match_query(Matcher::Any)
        .with_status(403)
        .with_body(json!({"message": "403 Forbidden"}).to_string())
        .create();
    let out = run(&h, &server, &sha, ("CI_JOB_TOKEN", "job-SECRET-123")).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    assert_contains(
        &out.stderr,
        "GitLab answered 403 Forbidden to GET /projects/ml%2Fmono/merge_requests/7/diffs with the token from CI_JOB_TOKEN",
    );
    assert_contains(
        &out.stderr,
        "(GitLab refuses CI_JOB_TOKEN on the merge request endpoints)",
    );
}

#[test]
fn an_incomplete_list_is_never_used() {
    let (h, sha, mut server) = merged();
    serve_merge_request(&mut server, &merge_request(&h, 7, &sha, "1000+"), &sha);
    serve_one_page(
        &mut server,
        7,
        &json!([file_diff("pipelines/p2/s1/new.py", "pipelines/p2/s1/new.py", "A")]),
    );
    let out = run(&h, &server, &sha, ("GITLAB_TOKEN", TOKEN)).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    assert_contains(
        &out.stderr,
        "the API listed 1 file(s) of the 1001 it counts (changes_count \"1000+\")",
    );
}

#[test]
fn a_direct_push_falls_back_to_the_push_range() {
    let h = history();
    h.git.checkout("main");
    h.git.write("pipelines/p7/s1/hotfix.py", "fix\n");
    let sha = h.git.commit("hotfix pushed directly").to_string();
    let mut server = Server::new();
    server
        .mock(
            "GET",
            format!("{PROJECT}/repository/commits/{sha}/merge_requests").as_str(),
        )
        .with_body("[]")
        .create();
    let out = run(&h, &server, &sha, ("GITLAB_TOKEN", TOKEN)).success();
    assert_eq!(out.stdout, "A\tpipelines/p7/s1/hotfix.py\n");
    assert_contains(
        &out.stderr,
        "no merged merge request produced this commit (a direct push)",
    );
}

#[test]
fn a_fast_forward_merge_is_found_by_its_head_sha() {
    let h = history();
    let sha = h.feature.to_string();
    let mut mr = merge_request(&h, 11, "", "4");
    mr["merge_commit_sha"] = serde_json::Value::Null;
    let mut server = Server::new();
    serve_merge_request(&mut server, &mr, &sha);
    serve_one_page(&mut server, 11, &feature_diffs());
    let out = run(&h, &server, &sha, ("GITLAB_TOKEN", TOKEN)).success();
    assert_eq!(out.stdout, FEATURE_CHANGES_API);
    assert_contains(&out.stderr, "comes from merge request !11");
}

#[test]
fn an_unreachable_server_falls_back_to_git() {
    let h = history();
    let sha = merge_feature(&h).to_string();
    // A port nothing listens on: connection refused, retried, then git (issue 8).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}/api/v4");
    let vars = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_COMMIT_SHA", sha.as_str()),
        ("CI_API_V4_URL", url.as_str()),
        ("CI_PROJECT_ID", "42"),
        ("GITLAB_TOKEN", TOKEN),
    ];
    let out = h.env.run_with(&vars, &["changes"]).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    // Issue 12: the port stays in the message (it is often the misconfigured part).
    assert_contains(
        &out.stderr,
        &format!("failed after 5 attempt(s): cannot connect to http://127.0.0.1:{port}"),
    );
    assert!(!out.stderr.contains(TOKEN));
    snapshot!(
        "gitlab_unreachable",
        Output {
            stderr: out.stderr.replace(&sha, "[SHA]").replace(&port.to_string(), "[PORT]"),
            ..out
        }
    );
}

#[test]
fn without_total_pages_the_next_page_header_is_followed() {
    // GitLab omits x-total-pages for very large lists; x-next-page still leads on.
    let (h, sha, mut server) = merged();
    serve_merge_request(&mut server, &merge_request(&h, 7, &sha, "4"), &sha);
    let diffs = feature_diffs();
    let (first, second) = diffs.as_array().expect("array").split_at(3);
    let page1 = server
        .mock("GET", format!("{PROJECT}/merge_requests/7/diffs").as_str())
        .match_query(page_query(1))
        .with_header("x-next-page", "2")
        .with_body(serde_json::Value::Array(first.to_vec()).to_string())
        .expect(1)
        .create();
    let page2 = server
        .mock("GET", format!("{PROJECT}/merge_requests/7/diffs").as_str())
        .match_query(page_query(2))
        .with_header("x-next-page", "")
        .with_body(serde_json::Value::Array(second.to_vec()).to_string())
        .expect(1)
        .create();
    let out = run(&h, &server, &sha, ("GITLAB_TOKEN", TOKEN)).success();
    assert_eq!(out.stdout, FEATURE_CHANGES_API);
    page1.assert();
    page2.assert();
}

#[test]
fn an_older_gitlab_without_the_diffs_endpoint_falls_back_to_git() {
    let (h, sha, mut server) = merged();
    serve_merge_request(&mut server, &merge_request(&h, 7, &sha, "4"), &sha);
    server
        .mock("GET", format!("{PROJECT}/merge_requests/7/diffs").as_str())
        .match_query(Matcher::Any)
        .with_status(404)
        .with_body(json!({"error": "404 Not Found"}).to_string())
        .create();
    let out = run(&h, &server, &sha, ("GITLAB_TOKEN", TOKEN)).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    assert_contains(
        &out.stderr,
        "404 Not Found to GET /projects/ml%2Fmono/merge_requests/7/diffs",
    );
    assert_contains(&out.stderr, "(CI_COMMIT_BEFORE_SHA..CI_COMMIT_SHA)");
}

/// Every redirect status pointing at another origin (another port on
/// 127.0.0.1, or `localhost`) is refused: the second server gets no request,
/// so the token never reaches it, and the token is printed nowhere.
#[test]
fn redirects_to_another_origin_are_refused() {
    for status in [301, 302, 303, 307, 308] {
        for host in ["127.0.0.1", "localhost"] {
            let (h, sha, mut server) = merged();
            let mut capture = Server::new();
            let port = capture.socket_address().port();
            let elsewhere = capture.mock("GET", Matcher::Any).expect(0).create();
            let location = format!("http://{host}:{port}{PROJECT}/repository/commits/{sha}/merge_requests");
            server
                .mock(
                    "GET",
                    format!("{PROJECT}/repository/commits/{sha}/merge_requests").as_str(),
                )
                .with_status(status)
                .with_header("location", &location)
                .create();
            let out = run(&h, &server, &sha, ("CI_JOB_TOKEN", TOKEN));
            assert_contains(&out.stderr, "refusing a redirect to another origin");
            elsewhere.assert();
        }
    }
}

/// Every redirect status to another origin: another port on 127.0.0.1 (a
/// capturing server), and `localhost` on the API's own port. None is followed,
/// no request (so no token) reaches the other origin, the warning says why,
/// and the changes come from git (issue 8's fallback).
#[test]
fn redirects_to_another_origin_are_refused_and_the_token_stays_home() {
    let h = history();
    let sha = merge_feature(&h).to_string();
    let capture = CaptureServer::start();
    for status in [301, 302, 303, 307, 308] {
        let mut server = Server::new();
        let port = server.socket_address().port();
        for (target, other) in [
            (
                format!("http://127.0.0.1:{}", capture.port),
                "127.0.0.1 on another port",
            ),
            (format!("http://localhost:{port}"), "localhost"),
        ] {
            let redirect = server
                .mock(
                    "GET",
                    format!("{PROJECT}/repository/commits/{sha}/merge_requests").as_str(),
                )
                .with_status(status)
                .with_header(
                    "location",
                    &format!("{target}{PROJECT}/repository/commits/{sha}/merge_requests"),
                )
                .expect(2)
                .create();
            let followed = server.mock("GET", Matcher::Any).expect(0).create();
            for token in [("GITLAB_TOKEN", TOKEN), ("CI_JOB_TOKEN", TOKEN)] {
                let out = run(&h, &server, &sha, token).success();
                assert_eq!(out.stdout, FEATURE_CHANGES, "{status} to {other}");
                assert_contains(&out.stderr, "refusing a redirect to another origin");
                assert_contains(&out.stderr, "the token is only sent to the configured GitLab URL");
                assert_contains(&out.stderr, "The changes come from git");
                assert!(!out.stderr.contains(TOKEN) && !out.stdout.contains(TOKEN));
            }
            redirect.assert();
            followed.assert();
            redirect.remove();
            followed.remove();
        }
    }
    assert_eq!(capture.requests(), Vec::<String>::new(), "the other origin was reached");
}

/// A redirect within the origin is followed (GitLab behind a path rewrite).
#[test]
fn same_origin_redirects_are_followed() {
    let (h, sha, mut server) = merged();
    let mr = merge_request(&h, 7, &sha, "4");
    server
        .mock(
            "GET",
            format!("{PROJECT}/repository/commits/{sha}/merge_requests").as_str(),
        )
        .match_header("private-token", TOKEN)
        .with_status(301)
        .with_header("location", &format!("{}/moved/commits", server.url()))
        .create();
    server
        .mock("GET", "/moved/commits")
        .match_header("private-token", TOKEN)
        .with_body(json!([mr]).to_string())
        .expect(1)
        .create();
    server
        .mock("GET", format!("{PROJECT}/merge_requests/7").as_str())
        .with_body(mr.to_string())
        .create();
    serve_one_page(&mut server, 7, &feature_diffs());
    let out = run(&h, &server, &sha, ("GITLAB_TOKEN", TOKEN)).success();
    assert_eq!(out.stdout, FEATURE_CHANGES_API);
}

/// Runs `childgen changes` as a default-branch pipeline against `port`, with
/// extra variables (the internal timeout knobs).
fn run_against(h: &History, sha: &str, port: u16, extra: &[(&str, &str)]) -> Output {
    let url = format!("http://127.0.0.1:{port}/api/v4");
    let mut vars = vec![
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_COMMIT_SHA", sha),
        ("CI_API_V4_URL", url.as_str()),
        ("CI_PROJECT_ID", "ml/mono"),
        ("GITLAB_TOKEN", TOKEN),
    ];
    vars.extend_from_slice(extra);
    let out = h.env.run_with(&vars, &["changes", "--verbose"]);
    assert!(
        !out.stdout.contains(TOKEN) && !out.stderr.contains(TOKEN),
        "token leaked:\n{}",
        out.snapshot()
    );
    out
}

/// A server that answers the merge request lookups for merge request 7, and
/// hands `/diffs` requests (request line) to `diffs`.
fn api_with_diffs(
    h: &History,
    sha: &str,
    diffs: impl Fn(&str, &mut std::net::TcpStream) + Send + Sync + 'static,
) -> u16 {
    use std::io::Write;
    let mr = merge_request(h, 7, sha, "4").to_string();
    let list = json!([merge_request(h, 7, sha, "4")]).to_string();
    crate::support::raw_server(move |line, stream| {
        let body = if line.contains("/diffs") {
            return diffs(line, stream);
        } else if line.contains("/repository/commits/") {
            &list
        } else {
            &mr
        };
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
    })
}

/// Answers with the feature's diffs and `x-next-page: NEXT`.
fn diffs_page(stream: &mut std::net::TcpStream, next: usize) {
    use std::io::Write;
    let body = feature_diffs().to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-next-page: {next}\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
}

fn page_of(line: &str) -> usize {
    line.split(['?', '&', ' '])
        .find_map(|part| part.strip_prefix("page="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1)
}

#[test]
fn absurd_total_pages_are_refused_without_allocating() {
    let (h, sha, _) = merged();
    for total in ["18446744073709551615", "1000000000", "99999999999999999999999"] {
        let mut server = Server::new();
        serve_merge_request(&mut server, &merge_request(&h, 7, &sha, "4"), &sha);
        server
            .mock("GET", format!("{PROJECT}/merge_requests/7/diffs").as_str())
            .match_query(page_query(1))
            .with_header("x-total-pages", total)
            .with_body(feature_diffs().to_string())
            .expect(1)
            .create();
        let later = server.mock("GET", Matcher::Regex("page=2".into())).expect(0).create();
        let out = run(&h, &server, &sha, ("GITLAB_TOKEN", TOKEN)).success();
        assert_eq!(out.stdout, FEATURE_CHANGES, "x-total-pages {total}");
        assert_contains(
            &out.stderr,
            &format!("GitLab lists {total} pages; childgen reads at most 1000"),
        );
        later.assert();
    }
}

#[test]
fn an_endless_next_page_chain_stops_at_the_deadline() {
    let (h, sha, _) = merged();
    // A slow server: the deadline comes before the 1,000-page cap.
    let port = api_with_diffs(&h, &sha, |line, stream| {
        std::thread::sleep(std::time::Duration::from_millis(10));
        diffs_page(stream, page_of(line) + 1);
    });
    let started = std::time::Instant::now();
    let out = run_against(&h, &sha, port, &[("CHILDGEN_TEST_API_DEADLINE_MS", "1500")]).success();
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(out.stdout, FEATURE_CHANGES);
    assert_contains(&out.stderr, "deadline for the GitLab API has passed");
}

#[test]
fn an_endless_next_page_chain_stops_at_1000_pages() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (h, sha, _) = merged();
    let requests = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&requests);
    let port = api_with_diffs(&h, &sha, move |line, stream| {
        counted.fetch_add(1, Ordering::SeqCst);
        diffs_page(stream, page_of(line) + 1);
    });
    let out = run_against(&h, &sha, port, &[("CHILDGEN_TEST_API_DEADLINE_MS", "120000")]).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    assert_contains(
        &out.stderr,
        "GitLab lists more than 1000 pages; childgen reads at most 1000",
    );
    assert_eq!(requests.load(Ordering::SeqCst), 1000);
}

/// Pages are bounded, and so are the items on each (GitLab never gives
/// more than `per_page`) and the bytes of all answers together.
#[test]
fn more_items_than_asked_for_and_too_many_bytes_are_refused() {
    use std::io::Write;
    let (h, sha, _) = merged();
    let port = api_with_diffs(&h, &sha, |_, stream| {
        let many: Vec<serde_json::Value> = (0..101)
            .map(|i| {
                file_diff(
                    &format!("pipelines/p1/s1/f{i}.py"),
                    &format!("pipelines/p1/s1/f{i}.py"),
                    "A",
                )
            })
            .collect();
        let body = serde_json::Value::Array(many).to_string();
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-total-pages: 1\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
    });
    let out = run_against(&h, &sha, port, &[]).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    assert_contains(
        &out.stderr,
        "page 1: GitLab gave 101 items where childgen asked for 100 a page",
    );

    // Ten pages of 300 KB under a 1 MiB bound for the test (256 MiB for real).
    let port = api_with_diffs(&h, &sha, |_, stream| {
        let long = format!("pipelines/p1/s1/{}.py", "x".repeat(300 * 1024));
        let body = json!([file_diff(&long, &long, "A")]).to_string();
        let _ = write!(
            stream,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-total-pages: 10\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
    });
    let out = run_against(&h, &sha, port, &[("CHILDGEN_TEST_API_MAX_RECEIVED", "1048576")]).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    assert_contains(&out.stderr, "GitLab's answers hold more than 1 MiB in all");
}

#[test]
fn a_next_page_that_goes_back_is_refused() {
    let (h, sha, _) = merged();
    let port = api_with_diffs(&h, &sha, |_, stream| diffs_page(stream, 2));
    let out = run_against(&h, &sha, port, &[]).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    assert_contains(&out.stderr, "x-next-page went from page 2 back to page 2");
}

#[test]
fn an_endless_body_stops_at_32_mib() {
    use std::io::Write;
    let (h, sha, _) = merged();
    let port = api_with_diffs(&h, &sha, |_, stream| {
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nx-total-pages: 1\r\n\r\n3\r\n[\"a\r\n",
        );
        let chunk = format!("{:x}\r\n{}\r\n", 1 << 20, "a".repeat(1 << 20));
        while stream.write_all(chunk.as_bytes()).is_ok() {}
    });
    let out = run_against(&h, &sha, port, &[]).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    assert_contains(&out.stderr, "the response body is larger than 32 MiB");
}

#[test]
fn a_stalled_body_says_it_timed_out() {
    use std::io::Write;
    let (h, sha, _) = merged();
    let port = api_with_diffs(&h, &sha, |_, stream| {
        let _ = stream.write_all(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\nx-total-pages: 1\r\n\r\n[{\"old_path\"",
        );
        let _ = stream.flush();
        std::thread::sleep(std::time::Duration::from_secs(5));
    });
    let out = run_against(&h, &sha, port, &[("CHILDGEN_TEST_API_TIMEOUT_MS", "500")]).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    assert_contains(&out.stderr, "timed out reading the response body");
    assert!(!out.stderr.contains("error decoding response body"));
}

/// A `changes_count` that is not a count cannot prove the list complete:
/// git computes the changes (the one listed file is not enough).
#[test]
fn an_unreadable_changes_count_never_proves_a_list_complete() {
    for count in ["abc", "-1", "1e3", "+5", ""] {
        let (h, sha, mut server) = merged();
        serve_merge_request(&mut server, &merge_request(&h, 7, &sha, count), &sha);
        serve_one_page(
            &mut server,
            7,
            &json!([file_diff("pipelines/p2/s1/new.py", "pipelines/p2/s1/new.py", "A")]),
        );
        let out = run(&h, &server, &sha, ("GITLAB_TOKEN", TOKEN)).success();
        assert_eq!(out.stdout, FEATURE_CHANGES, "changes_count {count:?}");
        assert_contains(
            &out.stderr,
            &format!(
                "its changes_count {count:?} is not a file count, so the API's list of 1 file(s) cannot be proven complete"
            ),
        );
    }
}

/// An empty path or one with a NUL byte is not used: the warning names the
/// merge request and git answers.
#[test]
fn empty_and_nul_paths_from_the_api_are_refused() {
    for (path, what) in [
        ("", "an empty path"),
        ("pipelines/p1/s1/a\u{0}b.py", "a path with a NUL byte"),
    ] {
        let (h, sha, mut server) = merged();
        serve_merge_request(&mut server, &merge_request(&h, 7, &sha, "2"), &sha);
        serve_one_page(
            &mut server,
            7,
            &json!([
                file_diff("pipelines/p2/s1/new.py", "pipelines/p2/s1/new.py", "A"),
                file_diff(path, path, "M")
            ]),
        );
        let out = run(&h, &server, &sha, ("GITLAB_TOKEN", TOKEN)).success();
        assert_eq!(out.stdout, FEATURE_CHANGES, "{what}");
        assert_contains(&out.stderr, &format!("merge request !7: the API listed {what}"));
    }
}

/// A password in `CI_API_V4_URL` is printed nowhere (verbose lines, warnings).
#[test]
fn a_password_in_the_api_url_is_redacted() {
    let (h, sha, mut server) = merged();
    server.mock("GET", Matcher::Any).with_status(404).create();
    let url = format!("http://user:hunter2-secret@{}/api/v4", server.host_with_port());
    let vars = [
        ("CI_PIPELINE_SOURCE", "push"),
        ("CI_COMMIT_BRANCH", "main"),
        ("CI_DEFAULT_BRANCH", "main"),
        ("CI_COMMIT_SHA", sha.as_str()),
        ("CI_API_V4_URL", url.as_str()),
        ("CI_PROJECT_ID", "ml/mono"),
        ("GITLAB_TOKEN", TOKEN),
    ];
    let out = h.env.run_with(&vars, &["changes", "--verbose"]).success();
    assert_eq!(out.stdout, FEATURE_CHANGES);
    assert_contains(&out.stderr, "GitLab API http://***@127.0.0.1:");
    assert!(
        !out.stderr.contains("hunter2") && !out.stderr.contains(TOKEN),
        "{}",
        out.stderr
    );
    let out = h.env.run_with(&vars, &["changes", "--source", "api", "--verbose"]);
    assert!(
        !out.stderr.contains("hunter2") && !out.stdout.contains("hunter2"),
        "{}",
        out.stderr
    );
}
