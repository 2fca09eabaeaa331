//! The GitLab API source: the merge request that produced a commit on the
//! default branch, and its diff (design §1.3, §7). Blocking reqwest with
//! rustls; one function per endpoint; retries with backoff and `Retry-After`;
//! every page after the first fetched concurrently. Tokens never appear in
//! any output, log or error.

use crate::change::Change;
use crate::error::{Error, Result};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use reqwest::header::{HeaderMap, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Results per page (GitLab's maximum).
const PER_PAGE: usize = 100;
/// Pages fetched at once after the first.
const CONCURRENT_PAGES: usize = 10;
/// Attempts per request (first try included).
const ATTEMPTS: u32 = 5;
/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_mins(1);
/// Timeout of one request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Deadline for the whole source.
const DEADLINE: Duration = Duration::from_mins(3);
/// Pages read from one list: 100,000 items, far past GitLab's own cap on a
/// merge request's diffs.
const MAX_PAGES: usize = 1000;
/// Bytes read from all response bodies together: as much as a diff listing
/// may hold (`files::DIFF_LIMIT`).
const MAX_RECEIVED: u64 = 256 * 1024 * 1024;
/// Bytes read from one response body.
const MAX_BODY: u64 = 32 * 1024 * 1024;

/// Milliseconds from an internal test knob (`CHILDGEN_TEST_API_TIMEOUT_MS`,
/// `CHILDGEN_TEST_API_DEADLINE_MS`: tests shorten the waits with them).
fn knob(variable: &str, default: Duration) -> Duration {
    std::env::var(variable)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(default, Duration::from_millis)
}

/// A GitLab token. Its value is only ever written into a sensitive header;
/// `Debug` and `Display` print `***`.
#[derive(Clone)]
pub struct Token {
    value: String,
    /// The variable it came from, for messages.
    pub variable: &'static str,
    /// `PRIVATE-TOKEN` or `JOB-TOKEN`.
    pub header: &'static str,
}

impl Token {
    /// The first token set among `CHILDGEN_GITLAB_TOKEN`, `GITLAB_TOKEN`
    /// (`PRIVATE-TOKEN`) and `CI_JOB_TOKEN` (`JOB-TOKEN`).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        [
            ("CHILDGEN_GITLAB_TOKEN", "PRIVATE-TOKEN"),
            ("GITLAB_TOKEN", "PRIVATE-TOKEN"),
            ("CI_JOB_TOKEN", "JOB-TOKEN"),
        ]
        .into_iter()
        .find_map(|(variable, header)| {
            get(variable).filter(|v| !v.is_empty()).map(|value| Token {
                value,
                variable,
                header,
            })
        })
    }

    /// Whether this is the CI job token (which GitLab refuses on the merge request API).
    #[must_use]
    pub fn is_job_token(&self) -> bool {
        self.header == "JOB-TOKEN"
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({}: ***)", self.variable)
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A project ID or `group/project` path, URL-encoded (`group%2Fproject`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRef(String);

impl ProjectRef {
    /// Encodes an ID or a path for use in a URL.
    #[must_use]
    pub fn new(project: &str) -> Self {
        let mut out = String::with_capacity(project.len());
        for b in project.trim().bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                out.push(char::from(b));
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        ProjectRef(out)
    }
}

impl fmt::Display for ProjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The fields childgen reads of a merge request (all optional: GitLab
/// versions differ).
#[derive(Debug, Clone, Deserialize)]
pub struct MergeRequest {
    pub iid: u64,
    pub state: Option<String>,
    pub target_branch: Option<String>,
    pub merge_commit_sha: Option<String>,
    pub squash_commit_sha: Option<String>,
    pub sha: Option<String>,
    pub changes_count: Option<String>,
    pub diff_refs: Option<DiffRefs>,
}

/// `diff_refs` of a merge request.
#[derive(Debug, Clone, Deserialize)]
pub struct DiffRefs {
    pub base_sha: Option<String>,
    pub head_sha: Option<String>,
    pub start_sha: Option<String>,
}

/// One entry of `/merge_requests/:iid/diffs`.
#[derive(Debug, Clone, Deserialize)]
pub struct FileDiff {
    pub old_path: String,
    pub new_path: String,
    #[serde(default)]
    pub new_file: bool,
    #[serde(default)]
    pub renamed_file: bool,
    #[serde(default)]
    pub deleted_file: bool,
}

impl FileDiff {
    fn to_change(&self) -> Change {
        if self.new_file {
            Change::new('A', &self.new_path)
        } else if self.deleted_file {
            Change::new('D', &self.old_path)
        } else if self.renamed_file && self.old_path != self.new_path {
            Change::moved('R', None, &self.old_path, &self.new_path)
        } else {
            Change::new('M', &self.new_path)
        }
    }
}

/// What the merged-MR lookup found.
#[derive(Debug)]
pub enum MergedChanges {
    /// The MR's complete file list.
    Complete { iid: u64, changes: Vec<Change> },
    /// The API list is incomplete or refused: diff these SHAs with git.
    UseGit {
        iid: u64,
        base: String,
        head: String,
        reason: String,
    },
    /// No merged MR produced the commit (a direct push).
    NoMergeRequest,
    /// The API could not be used (refused, not found, unreachable, or an
    /// answer childgen cannot read): the caller decides what git can do.
    Unavailable { kind: ApiFailure, detail: String },
}

/// Why the API could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiFailure {
    /// 401 or 403: the token (or its absence) is not allowed to read it.
    Refused,
    /// 404: no such project or merge request, or not visible without a token.
    NotFound,
    /// Connection refused, timeouts, the deadline, or 429/5xx after the retries.
    Unreachable,
    /// Any other answer (an unexpected status or body).
    Unexpected,
}

/// A GitLab API client for one project.
pub struct GitLab {
    base: String,
    project: ProjectRef,
    token: Option<Token>,
    http: Client,
    deadline: Instant,
    deadline_length: Duration,
    request_timeout: Duration,
    retry_base: Duration,
    verbose: bool,
    /// Body bytes read so far, of every answer (pages arrive on several
    /// threads): at most [`MAX_RECEIVED`].
    received: std::sync::atomic::AtomicU64,
    /// [`MAX_RECEIVED`], or a test's smaller bound.
    max_received: u64,
}

/// Redirects followed at most (same origin only).
const MAX_REDIRECTS: usize = 5;

/// The token goes only to the configured origin: a redirect to another scheme,
/// host or port (`127.0.0.1` to `localhost` included) is refused, since the
/// `PRIVATE-TOKEN`/`JOB-TOKEN` header would otherwise follow it.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.stop();
        };
        if attempt.url().origin() != first.origin() {
            let to = attempt.url().origin().ascii_serialization();
            return attempt.error(format!(
                "refusing a redirect to another origin ({to}); the token is only sent to the configured GitLab URL"
            ));
        }
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        attempt.follow()
    })
}

/// A failed request, before it becomes an [`Error`].
enum Failure {
    Status {
        status: StatusCode,
        path: String,
    },
    /// The request did not get an answer (connection, timeout, deadline).
    Network(String),
    Other(String),
}

impl Failure {
    fn kind(&self) -> ApiFailure {
        match self {
            Failure::Status { status, .. } if matches!(*status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => {
                ApiFailure::Refused
            }
            Failure::Status { status, .. } if *status == StatusCode::NOT_FOUND => ApiFailure::NotFound,
            Failure::Status { status, .. } if is_retryable(*status) || status.is_server_error() => {
                ApiFailure::Unreachable
            }
            Failure::Network(_) => ApiFailure::Unreachable,
            Failure::Status { .. } | Failure::Other(_) => ApiFailure::Unexpected,
        }
    }
}

impl GitLab {
    /// A client for `base` (`CI_API_V4_URL`, e.g. `https://gitlab.example.com/api/v4`).
    ///
    /// # Errors
    /// [`Error::GitLab`] when the HTTP client cannot be built.
    pub fn new(base: &str, project: &str, token: Option<Token>, verbose: bool) -> Result<Self> {
        let request_timeout = knob("CHILDGEN_TEST_API_TIMEOUT_MS", REQUEST_TIMEOUT);
        let deadline_length = knob("CHILDGEN_TEST_API_DEADLINE_MS", DEADLINE);
        let http = Client::builder()
            .timeout(request_timeout)
            .redirect(same_origin_redirects())
            .user_agent(concat!("childgen/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::GitLab(format!("cannot build the HTTP client: {e}")))?;
        Ok(GitLab {
            base: base.trim_end_matches('/').to_owned(),
            project: ProjectRef::new(project),
            token,
            http,
            deadline: Instant::now() + deadline_length,
            deadline_length,
            request_timeout,
            retry_base: Duration::from_millis(200),
            verbose,
            received: std::sync::atomic::AtomicU64::new(0),
            max_received: std::env::var("CHILDGEN_TEST_API_MAX_RECEIVED")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(MAX_RECEIVED),
        })
    }

    /// Merge requests associated with a commit.
    fn commit_merge_requests(&self, sha: &str) -> std::result::Result<Vec<MergeRequest>, Failure> {
        let path = format!("/projects/{}/repository/commits/{sha}/merge_requests", self.project);
        self.get_json(&path, &[])
    }

    /// One merge request (with `changes_count` and `diff_refs`).
    fn merge_request(&self, iid: u64) -> std::result::Result<MergeRequest, Failure> {
        let path = format!("/projects/{}/merge_requests/{iid}", self.project);
        self.get_json(&path, &[])
    }

    /// Every page of a merge request's diffs.
    fn merge_request_diffs(&self, iid: u64) -> std::result::Result<Vec<FileDiff>, Failure> {
        let path = format!("/projects/{}/merge_requests/{iid}/diffs", self.project);
        self.get_all_pages(&path)
    }

    /// The merge request that produced `sha` on `default_branch`, and its
    /// complete list of changes (or the SHAs to diff with git instead).
    ///
    /// # Errors
    /// [`Error::GitLab`] for network, authentication or API failures.
    pub fn merged_changes(&self, sha: &str, default_branch: &str) -> Result<MergedChanges> {
        let candidates = match self.commit_merge_requests(sha) {
            Ok(candidates) => candidates,
            Err(failure) => return Ok(self.unavailable(&failure, None)),
        };
        let Some(found) = choose_merge_request(&candidates, sha, default_branch) else {
            return Ok(MergedChanges::NoMergeRequest);
        };
        let iid = found.iid;
        self.info(format!("commit {sha} comes from merge request !{iid}"));
        let mr = match self.merge_request(iid) {
            Ok(mr) => mr,
            Err(failure) => return Ok(self.unavailable(&failure, Some(iid))),
        };
        // A refused or missing /diffs (the job token; GitLab before 15.7) is
        // not answered from diff_refs: after a squash their head is only in
        // refs/merge-requests/, which no runner fetches.
        let diffs = match self.merge_request_diffs(iid) {
            Ok(diffs) => diffs,
            Err(failure) => return Ok(self.unavailable(&failure, Some(iid))),
        };
        if let Some(bad) = diffs.iter().find_map(|d| {
            [&d.old_path, &d.new_path]
                .into_iter()
                .find(|p| p.is_empty() || p.contains('\0'))
        }) {
            let what = if bad.is_empty() {
                "an empty path"
            } else {
                "a path with a NUL byte"
            };
            return Ok(MergedChanges::Unavailable {
                kind: ApiFailure::Unexpected,
                detail: format!("merge request !{iid}: the API listed {what} ({bad:?}), which no git tree holds"),
            });
        }
        let count = mr.changes_count.as_deref().unwrap_or_default();
        let incomplete = match mr.changes_count.as_deref().map(parse_changes_count) {
            Some(Some(expected)) if diffs.len() < expected => Some(format!(
                "the API listed {} file(s) of the {} it counts (changes_count {count:?})",
                diffs.len(),
                expected,
            )),
            Some(None) => Some(format!(
                "its changes_count {count:?} is not a file count, so the API's list of {} file(s) cannot be proven complete",
                diffs.len()
            )),
            _ => None,
        };
        if let Some(reason) = incomplete {
            let refs = mr.diff_refs.as_ref();
            let base = refs.and_then(|r| r.base_sha.clone().or_else(|| r.start_sha.clone()));
            return Ok(match (base, refs.and_then(|r| r.head_sha.clone())) {
                (Some(base), Some(head)) => MergedChanges::UseGit {
                    iid,
                    base,
                    head,
                    reason,
                },
                _ => MergedChanges::Unavailable {
                    kind: ApiFailure::Unexpected,
                    detail: format!("merge request !{iid}: {reason}, and it has no diff_refs"),
                },
            });
        }
        let mut changes: Vec<Change> = diffs.iter().map(FileDiff::to_change).collect();
        crate::change::sort_by_path(&mut changes);
        changes.dedup_by(|later, first| later.path == first.path);
        Ok(MergedChanges::Complete { iid, changes })
    }

    /// What went wrong, in words that name the token's variable, never its value.
    fn unavailable(&self, failure: &Failure, iid: Option<u64>) -> MergedChanges {
        let who = self.token.as_ref().map_or_else(
            || " without a token".to_owned(),
            |t| format!(" with the token from {} ({} header)", t.variable, t.header),
        );
        let detail = match failure {
            Failure::Status { status, path } => format!("GitLab answered {status} to GET {path}{who}"),
            Failure::Network(message) | Failure::Other(message) => message.clone(),
        };
        MergedChanges::Unavailable {
            kind: failure.kind(),
            detail: match iid {
                Some(iid) => format!("merge request !{iid}: {detail}"),
                None => detail,
            },
        }
    }

    fn info(&self, message: impl AsRef<str>) {
        crate::output::info(self.verbose, message);
    }

    fn get_json<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> std::result::Result<T, Failure> {
        let response = self.get(path, query)?;
        self.read_json(response, path)
    }

    /// The body, at most [`MAX_BODY`] bytes and within the request timeout
    /// and the deadline, as JSON.
    fn read_json<T: DeserializeOwned>(&self, response: Response, what: &str) -> std::result::Result<T, Failure> {
        use std::io::Read;
        let mut body = Vec::new();
        let read = response.take(MAX_BODY + 1).read_to_end(&mut body);
        if let Err(e) = read {
            // The request's timeout is cut to what is left of the deadline:
            // when that is what ran out, say so.
            if Instant::now() >= self.deadline {
                return Err(self.past_deadline(what));
            }
            // The timeout sits somewhere in the chain (io -> reqwest -> hyper -> io).
            let first: &(dyn std::error::Error + 'static) = &e;
            let timed_out = std::iter::successors(Some(first), |e| e.source()).any(|e| {
                e.downcast_ref::<reqwest::Error>()
                    .is_some_and(reqwest::Error::is_timeout)
                    || e.downcast_ref::<std::io::Error>()
                        .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
                    || e.to_string().contains("timed out")
            }) || format!("{e:?}").contains("TimedOut");
            return Err(if timed_out {
                Failure::Network(format!(
                    "GET {what}: timed out reading the response body (the request timeout is {}s)",
                    self.request_timeout.as_secs_f32()
                ))
            } else {
                Failure::Network(format!("GET {what}: the response body could not be read: {e}"))
            });
        }
        if body.len() as u64 > MAX_BODY {
            return Err(Failure::Other(format!(
                "GET {what}: the response body is larger than {} MiB, more than childgen reads from one answer",
                MAX_BODY / 1024 / 1024
            )));
        }
        let before = self
            .received
            .fetch_add(body.len() as u64, std::sync::atomic::Ordering::Relaxed);
        if before + body.len() as u64 > self.max_received {
            return Err(Failure::Other(format!(
                "GET {what}: GitLab's answers hold more than {} MiB in all, more than childgen reads for one \
                 merge request",
                self.max_received / 1024 / 1024
            )));
        }
        serde_json::from_slice(&body)
            .map_err(|e| Failure::Other(format!("GET {what}: unexpected response from GitLab: {e}")))
    }

    /// Page 1, then pages 2..=`x-total-pages` concurrently; without
    /// `x-total-pages` (very large lists), `x-next-page` one at a time.
    fn get_all_pages<T: DeserializeOwned + Send>(&self, path: &str) -> std::result::Result<Vec<T>, Failure> {
        let page = |n: usize| -> std::result::Result<(Vec<T>, HeaderMap), Failure> {
            let response = self.get(path, &[("per_page", PER_PAGE.to_string()), ("page", n.to_string())])?;
            let headers = response.headers().clone();
            let items: Vec<T> = self.read_json(response, &format!("{path} page {n}"))?;
            // GitLab never gives more than it was asked for: the bound on
            // pages is a bound on items only with this.
            if items.len() > PER_PAGE {
                return Err(Failure::Other(format!(
                    "GET {path} page {n}: GitLab gave {} items where childgen asked for {PER_PAGE} a page",
                    items.len()
                )));
            }
            Ok((items, headers))
        };
        let (mut items, headers) = page(1)?;
        let number = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<usize>().ok())
        };
        let too_many = |pages: &str| {
            Failure::Other(format!(
                "GET {path}: GitLab lists {pages} pages; childgen reads at most {MAX_PAGES} ({} items)",
                MAX_PAGES * PER_PAGE
            ))
        };
        let total_pages = headers
            .get("x-total-pages")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty());
        if let Some(total) = total_pages {
            let total = match total.parse::<usize>() {
                Ok(total) if total <= MAX_PAGES => total,
                Ok(_) => return Err(too_many(total)),
                Err(_) if total.bytes().all(|b| b.is_ascii_digit()) => return Err(too_many(total)),
                Err(_) => {
                    return Err(Failure::Other(format!(
                        "GET {path}: GitLab's x-total-pages header {total:?} is not a page count"
                    )));
                }
            };
            if total > 1 {
                self.info(format!(
                    "GET {path}: {total} pages, fetching {} at a time",
                    CONCURRENT_PAGES.min(total - 1)
                ));
            }
            let rest = fetch_concurrently(2..=total, CONCURRENT_PAGES, |n| page(n).map(|(items, _)| items))?;
            items.extend(rest.into_iter().flatten());
            return Ok(items);
        }
        let mut next = number("x-next-page");
        let mut last = 1;
        let mut read = 1;
        while let Some(n) = next {
            if n <= last {
                return Err(Failure::Other(format!(
                    "GET {path}: GitLab's x-next-page went from page {last} back to page {n}"
                )));
            }
            read += 1;
            if read > MAX_PAGES {
                return Err(too_many(&format!("more than {MAX_PAGES}")));
            }
            let (more, headers) = page(n)?;
            items.extend(more);
            last = n;
            next = headers
                .get("x-next-page")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok());
        }
        Ok(items)
    }

    /// One GET with retries on 429, 502, 503, 504 and connection errors.
    fn get(&self, path: &str, query: &[(&str, String)]) -> std::result::Result<Response, Failure> {
        let mut url = format!("{}{path}", self.base);
        for (i, (key, value)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            url.push_str(&format!("{key}={value}"));
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            let left = self.deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.past_deadline(path));
            }
            let mut request = self.http.get(&url).timeout(left.min(self.request_timeout));
            if let Some(token) = &self.token {
                let mut value = HeaderValue::from_str(&token.value).map_err(|_| {
                    Failure::Other(format!("the token in {} is not a valid header value", token.variable))
                })?;
                value.set_sensitive(true);
                request = request.header(token.header, value);
            }
            let wait = match request.send() {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) if is_retryable(response.status()) && attempt < ATTEMPTS => {
                    let wait = retry_after(response.headers()).unwrap_or_else(|| self.backoff(attempt));
                    self.info(format!(
                        "GET {path}: {}, retrying in {:.1}s",
                        response.status(),
                        wait.as_secs_f32()
                    ));
                    wait
                }
                Ok(response) => {
                    return Err(Failure::Status {
                        status: response.status(),
                        path: path.to_owned(),
                    });
                }
                Err(e) if (e.is_connect() || e.is_timeout() || e.is_request()) && attempt < ATTEMPTS => {
                    let wait = self.backoff(attempt);
                    self.info(format!(
                        "GET {path}: {}, retrying in {:.1}s",
                        describe(&e),
                        wait.as_secs_f32()
                    ));
                    wait
                }
                Err(_) if Instant::now() >= self.deadline => return Err(self.past_deadline(path)),
                Err(e) => {
                    return Err(Failure::Network(format!(
                        "GET {path} failed after {attempt} attempt(s): {}",
                        describe(&e)
                    )));
                }
            };
            if Instant::now() + wait > self.deadline {
                return Err(self.past_deadline(path));
            }
            std::thread::sleep(wait);
        }
    }

    fn past_deadline(&self, path: &str) -> Failure {
        Failure::Network(format!(
            "GET {path}: giving up, the {}s deadline for the GitLab API has passed or would pass",
            self.deadline_length.as_secs_f32()
        ))
    }

    /// Exponential backoff with jitter: base × 2^(attempt-1) plus up to one base.
    fn backoff(&self, attempt: u32) -> Duration {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let jitter = self.retry_base.mul_f64(f64::from(nanos % 1000) / 1000.0);
        self.retry_base * 2u32.saturating_pow(attempt - 1) + jitter
    }
}

/// A network error without the URL's query (and never a header).
fn describe(error: &reqwest::Error) -> String {
    if error.is_redirect() {
        // The policy's own message (origins only, never userinfo or a path).
        let reason =
            std::error::Error::source(error).map_or_else(|| "redirect refused".to_owned(), ToString::to_string);
        return reason;
    }
    let kind = if error.is_connect() {
        "cannot connect"
    } else if error.is_timeout() {
        "timed out"
    } else {
        "request failed"
    };
    match error.url() {
        Some(url) => {
            let host = url.host_str().unwrap_or_default();
            match url.port() {
                Some(port) => format!("{kind} to {}://{host}:{port}", url.scheme()),
                None => format!("{kind} to {}://{host}", url.scheme()),
            }
        }
        None => kind.to_owned(),
    }
}

fn is_retryable(status: StatusCode) -> bool {
    matches!(status.as_u16(), 429 | 502 | 503 | 504)
}

/// `Retry-After` in seconds or as an HTTP date, capped.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_value(headers.get("retry-after")?.to_str().ok()?, std::time::SystemTime::now())
}

fn retry_after_value(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = match value.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => httpdate::parse_http_date(value)
            .ok()?
            .duration_since(now)
            .unwrap_or_default(),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// `text` with the userinfo (`user:password@`) of every URL in it shown as
/// `***@`: a URL given by the user, or one inside a message of git's. A
/// URL's authority ends at `/` or whitespace, so a `?` or `#` in a password
/// cannot end it early.
#[must_use]
pub fn redact_url(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let end = tail.find(|c: char| c == '/' || c.is_whitespace()).unwrap_or(tail.len());
        match tail[..end].rfind('@') {
            Some(userinfo) => {
                out.push_str("***");
                rest = &tail[userinfo..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// `"42"` → 42; `"1000+"` → 1001 (more than 1000 files); anything else
/// (`"abc"`, `"-1"`, `"1e3"`, `"+5"`) → `None`.
fn parse_changes_count(count: &str) -> Option<usize> {
    let count = count.trim();
    let (digits, more) = match count.strip_suffix('+') {
        Some(n) => (n, 1),
        None => (count, 0),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<usize>().ok()?.checked_add(more)
}

/// The merged MR into `default_branch` whose merge or squash commit is `sha`;
/// else a merged MR whose head is `sha` (fast-forward merge).
#[must_use]
pub fn choose_merge_request<'a>(
    candidates: &'a [MergeRequest],
    sha: &str,
    default_branch: &str,
) -> Option<&'a MergeRequest> {
    let merged = |mr: &&MergeRequest| {
        mr.state.as_deref() == Some("merged") && mr.target_branch.as_deref().is_none_or(|t| t == default_branch)
    };
    let is = |field: &Option<String>| field.as_deref() == Some(sha);
    candidates
        .iter()
        .filter(merged)
        .find(|mr| is(&mr.merge_commit_sha) || is(&mr.squash_commit_sha))
        .or_else(|| candidates.iter().filter(merged).find(|mr| is(&mr.sha)))
}

/// Runs `fetch` for every page number with at most `bound` at once; results
/// come back in page order, and the first failure (in page order) wins.
fn fetch_concurrently<T: Send>(
    pages: std::ops::RangeInclusive<usize>,
    bound: usize,
    fetch: impl Fn(usize) -> std::result::Result<T, Failure> + Sync,
) -> std::result::Result<Vec<T>, Failure> {
    let pages: Vec<usize> = pages.collect();
    if pages.is_empty() {
        return Ok(Vec::new());
    }
    let results: Vec<Mutex<Option<std::result::Result<T, Failure>>>> = pages.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..bound.min(pages.len()) {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(page) = pages.get(index) else { break };
                    let result = fetch(*page);
                    let failed = result.is_err();
                    if let Ok(mut slot) = results[index].lock() {
                        *slot = Some(result);
                    }
                    if failed {
                        next.store(pages.len(), Ordering::Relaxed);
                    }
                }
            });
        }
    });
    let mut out = Vec::with_capacity(pages.len());
    for slot in results {
        match slot.into_inner().ok().flatten() {
            Some(result) => out.push(result?),
            None => {
                return Err(Failure::Other(
                    "a page was not fetched because an earlier one failed".to_owned(),
                ));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mr(iid: u64, state: &str, target: &str, merge: Option<&str>, squash: Option<&str>, sha: &str) -> MergeRequest {
        MergeRequest {
            iid,
            state: Some(state.into()),
            target_branch: Some(target.into()),
            merge_commit_sha: merge.map(Into::into),
            squash_commit_sha: squash.map(Into::into),
            sha: Some(sha.into()),
            changes_count: None,
            diff_refs: None,
        }
    }

    #[test]
    fn merge_request_choice() {
        let list = [
            mr(1, "opened", "main", None, None, "c0"),
            mr(2, "merged", "release", Some("c0"), None, "x"),
            mr(3, "merged", "main", None, None, "c0"),
            mr(4, "merged", "main", Some("c0"), None, "y"),
        ];
        assert_eq!(choose_merge_request(&list, "c0", "main").map(|m| m.iid), Some(4));
        assert_eq!(choose_merge_request(&list[..3], "c0", "main").map(|m| m.iid), Some(3));
        let squash = [mr(5, "merged", "main", Some("m"), Some("c0"), "h")];
        assert_eq!(choose_merge_request(&squash, "c0", "main").map(|m| m.iid), Some(5));
        assert!(choose_merge_request(&list[..2], "c0", "main").is_none());
    }

    #[test]
    fn failures_are_classified_for_the_git_fallback() {
        let status = |code: u16| Failure::Status {
            status: StatusCode::from_u16(code).expect("status"),
            path: "/x".into(),
        };
        assert_eq!(status(401).kind(), ApiFailure::Refused);
        assert_eq!(status(403).kind(), ApiFailure::Refused);
        assert_eq!(status(404).kind(), ApiFailure::NotFound);
        assert_eq!(status(503).kind(), ApiFailure::Unreachable);
        assert_eq!(status(429).kind(), ApiFailure::Unreachable);
        assert_eq!(status(500).kind(), ApiFailure::Unreachable);
        assert_eq!(status(400).kind(), ApiFailure::Unexpected);
        assert_eq!(Failure::Network("timed out".into()).kind(), ApiFailure::Unreachable);
        assert_eq!(Failure::Other("bad JSON".into()).kind(), ApiFailure::Unexpected);
    }

    #[test]
    fn changes_count_forms() {
        assert_eq!(parse_changes_count("42"), Some(42));
        assert_eq!(parse_changes_count("1000+"), Some(1001));
        assert_eq!(parse_changes_count("x"), None);
        for bad in ["abc", "-1", "1e3", "+5", "", "+", "18446744073709551615+", "4.0"] {
            assert_eq!(parse_changes_count(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn retry_after_takes_seconds_or_an_http_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap_or(std::time::UNIX_EPOCH);
        assert_eq!(retry_after_value("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after_value("Sun, 06 Nov 1994 08:49:49 GMT", now),
            Some(Duration::from_secs(12))
        );
        assert_eq!(
            retry_after_value("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(
            retry_after_value("Mon, 07 Nov 1994 08:49:37 GMT", now),
            Some(MAX_RETRY_AFTER)
        );
        assert_eq!(retry_after_value("soon", now), None);
    }

    #[test]
    fn userinfo_is_redacted() {
        assert_eq!(
            redact_url("https://user:hunter2@gitlab.example.com/api/v4"),
            "https://***@gitlab.example.com/api/v4"
        );
        assert_eq!(
            redact_url("http://a@b@127.0.0.1:9/x?y=@"),
            "http://***@127.0.0.1:9/x?y=@"
        );
        assert_eq!(
            redact_url("https://gitlab.example.com/api/v4?a=b@c"),
            "https://gitlab.example.com/api/v4?a=b@c"
        );
        assert_eq!(
            redact_url("https://u:p?w#d@gitlab.example.com/api/v4"),
            "https://***@gitlab.example.com/api/v4"
        );
    }

    #[test]
    fn project_refs_are_encoded() {
        assert_eq!(ProjectRef::new("42").to_string(), "42");
        assert_eq!(
            ProjectRef::new("ml/platform/mono repo").to_string(),
            "ml%2Fplatform%2Fmono%20repo"
        );
    }

    #[test]
    fn tokens_never_print() {
        let token = Token::from_env(|k| (k == "GITLAB_TOKEN").then(|| "glpat-secret".to_owned()));
        let token = token.expect("a token");
        assert_eq!(format!("{token} {token:?}"), "*** Token(GITLAB_TOKEN: ***)");
        assert_eq!(token.header, "PRIVATE-TOKEN");
        let job = Token::from_env(|k| (k == "CI_JOB_TOKEN").then(|| "j".to_owned())).expect("job token");
        assert_eq!(job.header, "JOB-TOKEN");
    }
}
