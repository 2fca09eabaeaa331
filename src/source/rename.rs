//! Rename detection the way `git diff -M` does it, written from git's
//! `diffcore-rename.c` and `diffcore-delta.c` (read, not copied):
//!
//! 1. **Exact renames**: a created file whose blob ID equals a deleted
//!    file's. Among several such sources the first unused one in path order
//!    wins, one with the same basename before any other (git looks at up to
//!    100 candidates). Non-regular files (symlinks, submodules) need the same
//!    mode.
//! 2. **Basename matches**: a deleted and a created file whose basename is
//!    unique on both sides pair when their similarity reaches the stricter
//!    basename score (75 % by default, halfway from the threshold to 100 %).
//!    Git does this before it looks at `diff.renameLimit`, so past the limit
//!    same-basename moves are still found.
//! 3. **The limit**: when the remaining created × deleted files exceed
//!    `diff.renameLimit`² (1000² by default), inexact detection stops there.
//! 4. **Inexact renames**: every remaining pair is scored; each created file
//!    keeps its best four candidates, all candidates are ordered by score then
//!    same basename (stable), and pairs are taken greedily from the top while
//!    they reach the threshold (50 %), each side used once.
//!
//! The similarity is git's estimate: each file is cut into chunks that end at
//! a newline or after 64 bytes, each chunk hashed into one of 107,927 values,
//! and the bytes per hash value counted (a carriage return before a newline
//! is skipped in text files). The bytes the source can give the destination
//! (per hash value, the smaller count) times 60,000 over the larger file size
//! is the score; git prints it as a percentage, rounded down. A pair whose
//! sizes differ by more than the threshold allows is scored 0 without reading
//! either file.
//!
//! Each file's counts are computed once, as a sorted list, so one comparison
//! is a merge of two short lists.

use git2::Oid;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// git's `MAX_SCORE`: similarity is scored out of 60,000.
pub const MAX_SCORE: u64 = 60_000;

/// git's default rename threshold (`-M50%`).
pub const DEFAULT_SCORE: u64 = 30_000;

/// git's default `diff.renameLimit`.
pub const DEFAULT_RENAME_LIMIT: usize = 1000;

/// How many candidate sources git keeps per destination.
const CANDIDATES_PER_DST: usize = 4;

/// How many same-blob sources git weighs for one destination.
const EXACT_CANDIDATES: usize = 100;

/// The prime git reduces chunk hashes modulo.
const HASHBASE: u32 = 107_927;

/// git looks for NUL bytes in this many leading bytes to call a file binary.
const FIRST_FEW_BYTES: usize = 8000;

/// A deleted (source) or created (destination) file.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The path as git stores it (bytes, not necessarily UTF-8).
    pub path: Vec<u8>,
    /// The blob (or, for a submodule, commit) ID.
    pub id: Oid,
    /// The git file mode (`0o100644`, `0o120000`, `0o160000`, ...).
    pub mode: u32,
}

impl Candidate {
    fn is_regular(&self) -> bool {
        self.mode & 0o170_000 == 0o100_000
    }

    fn basename(&self) -> &[u8] {
        basename(&self.path)
    }
}

/// Reads the files that inexact detection compares.
pub trait Contents {
    /// The size of a source (`dst == false`) or destination file, without
    /// reading it when possible; `None` when it cannot be read.
    fn size(&mut self, candidate: &Candidate, dst: bool) -> Option<u64>;
    /// The content; `None` when it cannot be read.
    fn data(&mut self, candidate: &Candidate, dst: bool) -> Option<Vec<u8>>;
}

/// One detected rename.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rename {
    /// Index into the sources.
    pub src: usize,
    /// Index into the destinations.
    pub dst: usize,
    /// The score out of [`MAX_SCORE`].
    pub score: u64,
}

impl Rename {
    /// The score as git prints it (`R068`): a percentage, rounded down.
    pub fn percent(&self) -> u16 {
        u16::try_from(self.score * 100 / MAX_SCORE).unwrap_or(100)
    }
}

/// What rename detection found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The renames, in no particular order.
    pub renames: Vec<Rename>,
    /// When inexact detection was skipped for the limit: the limit that would
    /// have allowed it (git's "set diff.renameLimit to at least N").
    pub needed_limit: Option<usize>,
}

/// Detects renames from `srcs` (deleted files, in path order) to `dsts`
/// (created files, in path order). `limit` is `diff.renameLimit` (0: none).
pub fn detect(srcs: &[Candidate], dsts: &[Candidate], contents: &mut impl Contents, limit: usize) -> Outcome {
    let mut state = State {
        srcs,
        dsts,
        src_used: vec![false; srcs.len()],
        dst_done: vec![false; dsts.len()],
        src_sig: vec![Sig::Unknown; srcs.len()],
        dst_sig: vec![Sig::Unknown; dsts.len()],
        outcome: Outcome::default(),
    };
    if srcs.is_empty() || dsts.is_empty() {
        return state.outcome;
    }
    state.exact();
    state.basenames(DEFAULT_SCORE + (MAX_SCORE - DEFAULT_SCORE) / 2, contents);
    let sources: Vec<usize> = (0..srcs.len()).filter(|s| !state.src_used[*s]).collect();
    let targets: Vec<usize> = (0..dsts.len()).filter(|d| !state.dst_done[*d]).collect();
    if sources.is_empty() || targets.is_empty() {
        return state.outcome;
    }
    if limit > 0 && sources.len().saturating_mul(targets.len()) > limit.saturating_mul(limit) {
        state.outcome.needed_limit = Some(sources.len().max(targets.len()));
        return state.outcome;
    }
    state.inexact(&sources, &targets, DEFAULT_SCORE, contents);
    state.outcome
}

/// A file's size and chunk counts, computed on first use.
#[derive(Debug, Clone)]
enum Sig {
    Unknown,
    /// Unreadable: never similar to anything.
    Missing,
    Size(u64),
    Spans(u64, std::rc::Rc<[Span]>),
}

/// Bytes counted for one chunk hash value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    hash: u32,
    count: u32,
}

struct State<'a> {
    srcs: &'a [Candidate],
    dsts: &'a [Candidate],
    src_used: Vec<bool>,
    dst_done: Vec<bool>,
    src_sig: Vec<Sig>,
    dst_sig: Vec<Sig>,
    outcome: Outcome,
}

/// One entry of git's candidate matrix.
#[derive(Debug, Clone, Copy)]
struct Scored {
    /// `None`: an empty slot.
    dst: Option<usize>,
    src: usize,
    score: u64,
    same_name: bool,
}

impl Scored {
    const EMPTY: Scored = Scored {
        dst: None,
        src: 0,
        score: 0,
        same_name: false,
    };
}

/// git's `score_compare`: empty slots last, then higher score, then same
/// basename first. `Greater` means `a` comes after `b`.
fn compare(a: &Scored, b: &Scored) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.dst, b.dst) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(_), Some(_)) => b.score.cmp(&a.score).then(b.same_name.cmp(&a.same_name)),
    }
}

impl State<'_> {
    fn record(&mut self, src: usize, dst: usize, score: u64) {
        self.src_used[src] = true;
        self.dst_done[dst] = true;
        self.outcome.renames.push(Rename { src, dst, score });
    }

    /// Step 1: same blob ID.
    fn exact(&mut self) {
        let mut by_id: HashMap<Oid, (usize, Vec<usize>)> = HashMap::new();
        for (index, src) in self.srcs.iter().enumerate() {
            by_id.entry(src.id).or_default().1.push(index);
        }
        for (d, dst) in self.dsts.iter().enumerate() {
            let Some((start, sources)) = by_id.get_mut(&dst.id) else {
                continue;
            };
            // Used sources never count; skip the ones at the front for good.
            while *start < sources.len() && self.src_used[sources[*start]] {
                *start += 1;
            }
            let mut best: Option<(usize, bool)> = None;
            let mut budget = EXACT_CANDIDATES;
            for &s in &sources[*start..] {
                let src = &self.srcs[s];
                if (!src.is_regular() || !dst.is_regular()) && src.mode != dst.mode {
                    continue;
                }
                if self.src_used[s] {
                    continue;
                }
                let same = basename_same(&src.path, &dst.path);
                if best.is_none_or(|(_, best_same)| same && !best_same) {
                    best = Some((s, same));
                    if same {
                        break;
                    }
                }
                budget -= 1;
                if budget == 0 {
                    break;
                }
            }
            if let Some((s, _)) = best {
                self.record(s, d, MAX_SCORE);
            }
        }
    }

    /// Step 2: unique basenames on both sides, at the stricter score.
    fn basenames(&mut self, min_score: u64, contents: &mut impl Contents) {
        let mut sources: HashMap<&[u8], Option<usize>> = HashMap::new();
        for (s, src) in self.srcs.iter().enumerate().filter(|(s, _)| !self.src_used[*s]) {
            match sources.entry(src.basename()) {
                Entry::Occupied(mut seen) => *seen.get_mut() = None,
                Entry::Vacant(new) => {
                    new.insert(Some(s));
                }
            }
        }
        let mut dests: HashMap<&[u8], Option<usize>> = HashMap::new();
        for (d, dst) in self.dsts.iter().enumerate().filter(|(d, _)| !self.dst_done[*d]) {
            match dests.entry(dst.basename()) {
                Entry::Occupied(mut seen) => *seen.get_mut() = None,
                Entry::Vacant(new) => {
                    new.insert(Some(d));
                }
            }
        }
        for s in 0..self.srcs.len() {
            if self.src_used[s] {
                continue;
            }
            let base = self.srcs[s].basename();
            let (Some(Some(_)), Some(Some(d))) = (sources.get(base), dests.get(base).copied()) else {
                continue;
            };
            if self.dst_done[d] {
                continue;
            }
            let score = self.similarity(s, d, min_score, contents);
            if score >= min_score {
                self.record(s, d, score);
            }
        }
    }

    /// Step 4: the candidate matrix.
    fn inexact(&mut self, sources: &[usize], targets: &[usize], min_score: u64, contents: &mut impl Contents) {
        let mut matrix: Vec<Scored> = Vec::with_capacity(targets.len() * CANDIDATES_PER_DST);
        for &d in targets {
            let mut slots = [Scored::EMPTY; CANDIDATES_PER_DST];
            for &s in sources {
                let candidate = Scored {
                    dst: Some(d),
                    src: s,
                    score: self.similarity(s, d, min_score, contents),
                    same_name: basename_same(&self.srcs[s].path, &self.dsts[d].path),
                };
                // git's record_if_better: replace the worst slot (the first
                // of equally bad ones) when strictly better.
                let mut worst = 0;
                for i in 1..CANDIDATES_PER_DST {
                    if compare(&slots[i], &slots[worst]).is_gt() {
                        worst = i;
                    }
                }
                if compare(&slots[worst], &candidate).is_gt() {
                    slots[worst] = candidate;
                }
            }
            matrix.extend_from_slice(&slots);
        }
        // Stable, like git's STABLE_QSORT: ties keep matrix order.
        matrix.sort_by(compare);
        for entry in matrix {
            let Some(d) = entry.dst else { break };
            if entry.score < min_score {
                break;
            }
            if self.dst_done[d] || self.src_used[entry.src] {
                continue;
            }
            self.record(entry.src, d, entry.score);
        }
    }

    /// git's `estimate_similarity`, out of [`MAX_SCORE`].
    fn similarity(&mut self, s: usize, d: usize, min_score: u64, contents: &mut impl Contents) -> u64 {
        let (src, dst) = (&self.srcs[s], &self.dsts[d]);
        if !src.is_regular() || !dst.is_regular() {
            return 0;
        }
        let (Some(src_size), Some(dst_size)) = (
            size(&mut self.src_sig[s], src, false, contents),
            size(&mut self.dst_sig[d], dst, true, contents),
        ) else {
            return 0;
        };
        let max_size = src_size.max(dst_size);
        let delta = max_size - src_size.min(dst_size);
        if max_size * (MAX_SCORE - min_score) < delta * MAX_SCORE {
            return 0;
        }
        let (Some(src_spans), Some(dst_spans)) = (
            spans(&mut self.src_sig[s], src, false, contents),
            spans(&mut self.dst_sig[d], dst, true, contents),
        ) else {
            return 0;
        };
        if dst_size == 0 {
            return 0;
        }
        copied(&src_spans, &dst_spans) * MAX_SCORE / max_size
    }
}

fn size(sig: &mut Sig, candidate: &Candidate, dst: bool, contents: &mut impl Contents) -> Option<u64> {
    match sig {
        Sig::Unknown => {
            *sig = contents.size(candidate, dst).map_or(Sig::Missing, Sig::Size);
            size(sig, candidate, dst, contents)
        }
        Sig::Missing => None,
        Sig::Size(size) | Sig::Spans(size, _) => Some(*size),
    }
}

fn spans(sig: &mut Sig, candidate: &Candidate, dst: bool, contents: &mut impl Contents) -> Option<std::rc::Rc<[Span]>> {
    match sig {
        Sig::Spans(_, spans) => Some(spans.clone()),
        Sig::Missing => None,
        Sig::Unknown | Sig::Size(_) => {
            let Some(data) = contents.data(candidate, dst) else {
                *sig = Sig::Missing;
                return None;
            };
            let spans: std::rc::Rc<[Span]> = count_spans(&data).into();
            *sig = Sig::Spans(data.len() as u64, spans.clone());
            Some(spans)
        }
    }
}

/// git's `hash_chars`: bytes per chunk hash, sorted by hash.
pub fn count_spans(data: &[u8]) -> Vec<Span> {
    let text = !data[..data.len().min(FIRST_FEW_BYTES)].contains(&0);
    let mut chunks: Vec<Span> = Vec::with_capacity(data.len() / 32 + 1);
    let (mut accum1, mut accum2, mut n) = (0u32, 0u32, 0u32);
    for (i, &c) in data.iter().enumerate() {
        if text && c == b'\r' && data.get(i + 1) == Some(&b'\n') {
            continue;
        }
        let old1 = accum1;
        accum1 = (accum1 << 7) ^ (accum2 >> 25);
        accum2 = (accum2 << 7) ^ (old1 >> 25);
        accum1 = accum1.wrapping_add(u32::from(c));
        n += 1;
        if n < 64 && c != b'\n' {
            continue;
        }
        chunks.push(Span {
            hash: accum1.wrapping_add(accum2.wrapping_mul(0x61)) % HASHBASE,
            count: n,
        });
        (accum1, accum2, n) = (0, 0, 0);
    }
    if n > 0 {
        chunks.push(Span {
            hash: accum1.wrapping_add(accum2.wrapping_mul(0x61)) % HASHBASE,
            count: n,
        });
    }
    chunks.sort_unstable_by_key(|span| span.hash);
    chunks.dedup_by(|later, first| {
        if later.hash == first.hash {
            first.count += later.count;
            true
        } else {
            false
        }
    });
    chunks
}

/// git's `diffcore_count_changes`: the bytes of `dst` that `src` can supply.
pub fn copied(src: &[Span], dst: &[Span]) -> u64 {
    let (mut i, mut j, mut total) = (0, 0, 0u64);
    while i < src.len() && j < dst.len() {
        let (a, b) = (src[i], dst[j]);
        match a.hash.cmp(&b.hash) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                total += u64::from(a.count.min(b.count));
                i += 1;
                j += 1;
            }
        }
    }
    total
}

/// The part after the last `/`.
fn basename(path: &[u8]) -> &[u8] {
    path.iter()
        .rposition(|b| *b == b'/')
        .map_or(path, |slash| &path[slash + 1..])
}

/// git's `basename_same`.
fn basename_same(a: &[u8], b: &[u8]) -> bool {
    basename(a) == basename(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Blobs(HashMap<Vec<u8>, Vec<u8>>);

    impl Contents for Blobs {
        fn size(&mut self, candidate: &Candidate, dst: bool) -> Option<u64> {
            self.data(candidate, dst).map(|d| d.len() as u64)
        }
        fn data(&mut self, candidate: &Candidate, dst: bool) -> Option<Vec<u8>> {
            let mut key = vec![u8::from(dst)];
            key.extend_from_slice(&candidate.path);
            self.0.get(&key).cloned()
        }
    }

    fn side(files: &[(&str, &str)], dst: bool, blobs: &mut Blobs) -> Vec<Candidate> {
        files
            .iter()
            .map(|(path, content)| {
                let mut key = vec![u8::from(dst)];
                key.extend_from_slice(path.as_bytes());
                blobs.0.insert(key, content.as_bytes().to_vec());
                Candidate {
                    path: path.as_bytes().to_vec(),
                    id: Oid::hash_object(git2::ObjectType::Blob, content.as_bytes()).unwrap(),
                    mode: 0o100_644,
                }
            })
            .collect()
    }

    fn run(srcs: &[(&str, &str)], dsts: &[(&str, &str)], limit: usize) -> (Vec<(String, String, u16)>, Option<usize>) {
        let mut blobs = Blobs(HashMap::new());
        let s = side(srcs, false, &mut blobs);
        let d = side(dsts, true, &mut blobs);
        let outcome = detect(&s, &d, &mut blobs, limit);
        let mut pairs: Vec<_> = outcome
            .renames
            .iter()
            .map(|r| (srcs[r.src].0.to_owned(), dsts[r.dst].0.to_owned(), r.percent()))
            .collect();
        pairs.sort();
        (pairs, outcome.needed_limit)
    }

    #[test]
    fn chunks_end_at_newlines_and_64_bytes() {
        let spans = count_spans(b"a\nb\na\n");
        assert_eq!(spans.iter().map(|s| s.count).sum::<u32>(), 6);
        assert_eq!(spans.len(), 2);
        let long = count_spans(&[b'x'; 130]);
        assert_eq!(long.iter().map(|s| s.count).sum::<u32>(), 130);
        // 64 + 64 identical chunks, then 2 bytes.
        assert_eq!(long.len(), 2);
        // CR before LF is ignored in text, kept in binary.
        assert_eq!(count_spans(b"a\r\nb\r\n"), count_spans(b"a\nb\n"));
        assert_ne!(count_spans(b"\0a\r\n"), count_spans(b"\0a\n"));
    }

    #[test]
    fn identical_content_scores_full() {
        let text = "one\ntwo\nthree\n";
        let s = count_spans(text.as_bytes());
        assert_eq!(copied(&s, &s), text.len() as u64);
    }

    #[test]
    fn exact_renames_prefer_the_same_basename() {
        let (pairs, _) = run(
            &[("a/x.txt", "same\n"), ("b/y.txt", "same\n")],
            &[("c/y.txt", "same\n")],
            1000,
        );
        assert_eq!(pairs, [("b/y.txt".to_owned(), "c/y.txt".to_owned(), 100)]);
    }

    #[test]
    fn inexact_renames_need_half_the_content() {
        let base: String = (0..20).map(|i| format!("line {i}\n")).collect();
        let edited = base.replace("line 3\n", "changed\n");
        let (pairs, _) = run(&[("old.txt", &base)], &[("new.txt", &edited)], 1000);
        assert_eq!(pairs.len(), 1);
        assert!(pairs[0].2 >= 90 && pairs[0].2 < 100, "{pairs:?}");
        let other: String = (0..20).map(|i| format!("other {i}\n")).collect();
        let (none, _) = run(&[("old.txt", &base)], &[("new.txt", &other)], 1000);
        assert!(none.is_empty());
    }

    #[test]
    fn past_the_limit_only_exact_and_basename_pairs() {
        let base: String = (0..20).map(|i| format!("line {i}\n")).collect();
        let edited = base.replace("line 3\n", "changed\n");
        let (pairs, needed) = run(
            &[("a/keep.txt", &base), ("a/one.txt", &base), ("a/two.txt", "x\n")],
            &[("b/keep.txt", &edited), ("b/uno.txt", &edited), ("b/dos.txt", "y\n")],
            1,
        );
        assert_eq!(pairs.len(), 1, "{pairs:?}");
        assert_eq!(pairs[0].0, "a/keep.txt");
        assert_eq!(needed, Some(2));
    }
}
