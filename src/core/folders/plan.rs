//! From the entries a caller hands over (`webkitRelativePath`s, `{ file, path }`
//! pairs, `{ path, directory: true }`) to a plan: the folders that must exist,
//! parents first, and each file with its folder. The whole list is checked before
//! anything is sent: every bad entry is one line of a single
//! [`Error::InvalidInput`].
//!
//! Names are kept exactly as given: no Unicode normalisation (macOS hands over
//! decomposed names, other systems composed ones; Procore shows what it is sent, and
//! two names the file system told apart stay apart), no trimming of spaces, no case
//! folding. What is refused is what cannot be a name of the tree:
//! - an empty name: an empty path, a leading or trailing `/`, `//`;
//! - `.` and `..`: a browser never gives them, and they mean a place, not a name;
//! - control characters (U+0000–U+001F, U+007F–U+009F): no picker gives them,
//!   they cannot be typed in Procore's web page, and Procore's documentation
//!   promises nothing of them;
//! - two entries for one path, and a path that is a file and a folder at once.
//!
//! Characters that Windows refuses (`< > : " \ | ? *`) are kept: Procore's own
//! Extracts FAQ ("What is the File Rename Information file…",
//! en-au.support.procore.com) renames items on download because "an item name in
//! Procore" can hold them, so Documents accepts them. Names that are only spaces
//! are left to Procore's answer (its documentation says nothing of them).

use super::super::json::quote;
use super::super::Error;

/// What an entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A file of `size` bytes; `index` is the caller's handle on it (its place in
    /// the caller's list of `File`s), carried through untouched.
    File {
        /// Its size in bytes.
        size: u64,
        /// The caller's handle on it.
        index: usize,
    },
    /// A folder that must exist, even when no file goes in it.
    Directory,
}

/// One entry of the tree as the caller gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its path from the top of the tree, `/` between names: `plans/A/a1.pdf`.
    pub path: String,
    /// File or folder.
    pub kind: EntryKind,
}

/// The names left out when the caller does not say otherwise: what macOS
/// (`.DS_Store`) and Windows (`Thumbs.db`, `desktop.ini`) leave in folders.
pub const DEFAULT_IGNORE: [&str; 3] = [".DS_Store", "Thumbs.db", "desktop.ini"];

/// A folder of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFolder {
    /// Its path from the top of the tree.
    pub path: String,
    /// Its parent in [`Plan::folders`]; `None`: the folder the tree goes into.
    pub parent: Option<usize>,
}

impl PlannedFolder {
    /// Its own name, the last of its path.
    pub fn name(&self) -> &str {
        name_of(&self.path)
    }
}

/// A file of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedFile {
    /// Its path from the top of the tree.
    pub path: String,
    /// Its folder in [`Plan::folders`]; `None`: the folder the tree goes into.
    pub folder: Option<usize>,
    /// Its size in bytes.
    pub size: u64,
    /// The caller's handle on it ([`EntryKind::File`]).
    pub index: usize,
}

impl PlannedFile {
    /// Its own name, the last of its path: what it is called in Procore.
    pub fn name(&self) -> &str {
        name_of(&self.path)
    }
}

/// What a tree becomes: its folders and its files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    /// Every folder that must exist (each ancestor of each file, and each folder
    /// given as an entry), in the order first met, each after its parent.
    pub folders: Vec<PlannedFolder>,
    /// Every file not ignored, in the order given.
    pub files: Vec<PlannedFile>,
}

impl Plan {
    /// The bytes of all the files.
    pub fn total_bytes(&self) -> u64 {
        let mut total = 0u64;
        for file in &self.files {
            total = total.saturating_add(file.size);
        }
        total
    }

    fn find_folder(&self, parent: Option<usize>, name: &str) -> Option<usize> {
        // From the end: entries come folder by folder, so the one looked for is
        // most often the one just made.
        self.folders
            .iter()
            .rposition(|folder| folder.parent == parent && folder.name() == name)
    }

    fn has_file(&self, folder: Option<usize>, name: &str) -> bool {
        self.files
            .iter()
            .any(|file| file.folder == folder && file.name() == name)
    }

    /// The folder at `path` (`""`: the top), made with its ancestors where missing.
    fn ensure(&mut self, path: &str) -> Result<Option<usize>, String> {
        let mut parent = None;
        if path.is_empty() {
            return Ok(parent);
        }
        let mut end = 0;
        for name in path.split('/') {
            end += name.len();
            let here = path.get(..end).unwrap_or(path);
            end += 1;
            parent = Some(match self.find_folder(parent, name) {
                Some(found) => found,
                None if self.has_file(parent, name) => {
                    return Err(format!("is inside {}, which is a file", quote(here)))
                }
                None => {
                    self.folders.push(PlannedFolder {
                        path: here.to_string(),
                        parent,
                    });
                    self.folders.len() - 1
                }
            });
        }
        Ok(parent)
    }

    /// Adds the entry at `path` (already checked by [`path_problem`]); `given`
    /// holds the folders given as entries so far.
    fn add(&mut self, path: &str, kind: EntryKind, given: &mut Vec<usize>) -> Result<(), String> {
        let (parent_path, name) = split_last(path);
        let parent = self.ensure(parent_path)?;
        let folder = self.find_folder(parent, name);
        let file = self.has_file(parent, name);
        match kind {
            EntryKind::File { size, index } => {
                if folder.is_some() {
                    return Err("is both a file and a folder".into());
                }
                if file {
                    return Err("is given twice".into());
                }
                self.files.push(PlannedFile {
                    path: path.to_string(),
                    folder: parent,
                    size,
                    index,
                });
            }
            EntryKind::Directory => {
                if file {
                    return Err("is both a file and a folder".into());
                }
                match folder {
                    Some(found) if given.contains(&found) => return Err("is given twice".into()),
                    Some(found) => given.push(found),
                    None => {
                        self.folders.push(PlannedFolder {
                            path: path.to_string(),
                            parent,
                        });
                        given.push(self.folders.len() - 1);
                    }
                }
            }
        }
        Ok(())
    }
}

/// The last name of `path`.
pub fn name_of(path: &str) -> &str {
    split_last(path).1
}

/// `path` cut at its last `/`: its parent's path and its last name (`("", path)`
/// without one). A byte search, not `rsplit_once`: its pattern machinery cost the
/// package more (measured).
fn split_last(path: &str) -> (&str, &str) {
    match path.bytes().rposition(|byte| byte == b'/') {
        // At an ASCII byte: both ends are on character boundaries.
        Some(at) => (
            path.get(..at).unwrap_or_default(),
            path.get(at + 1..).unwrap_or_default(),
        ),
        None => ("", path),
    }
}

/// Why `path` cannot be a path of the tree, if it cannot.
pub fn path_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("is empty");
    }
    if path.starts_with('/') {
        return Some("starts with \"/\"");
    }
    if path.ends_with('/') {
        return Some("ends with \"/\"");
    }
    for name in path.split('/') {
        if name.is_empty() {
            return Some("has an empty name (\"//\")");
        }
        if name == "." || name == ".." {
            return Some("has a \".\" or \"..\" name");
        }
        if name.chars().any(char::is_control) {
            return Some("has a control character");
        }
    }
    None
}

/// Whether `name` is left out: one of `ignore` (`None`: [`DEFAULT_IGNORE`]), ASCII
/// letters in any case. These names come from case-insensitive file systems (APFS
/// and NTFS by default: `thumbs.db` there is the same file as `Thumbs.db`, and both
/// are met), and the caller's own list follows the same rule, so there is one rule.
pub fn is_ignored(name: &str, ignore: Option<&[String]>) -> bool {
    match ignore {
        None => DEFAULT_IGNORE
            .iter()
            .any(|ignored| ignored.eq_ignore_ascii_case(name)),
        Some(list) => list
            .iter()
            .any(|ignored| ignored.eq_ignore_ascii_case(name)),
    }
}

/// The part of `path` before its first ignored name, when it has one (`""` when
/// that is its first name).
fn before_ignored<'a>(path: &'a str, ignore: Option<&[String]>) -> Option<&'a str> {
    let mut end = 0;
    for name in path.split('/') {
        if is_ignored(name, ignore) {
            return Some(path.get(..end.max(1) - 1).unwrap_or(""));
        }
        end += name.len() + 1;
    }
    None
}

/// Most problems named in the error; the rest are counted.
pub const MAX_PROBLEMS: usize = 5;

/// The plan of `entries`, leaving out every entry with an ignored name on its path
/// (a file or folder named in `ignore`, or anything inside such a folder; `None`:
/// [`DEFAULT_IGNORE`], an empty list ignores nothing). Folders above what is left
/// out are still made: a folder dropped with nothing in it but a `.DS_Store` is an
/// empty folder the user dropped.
///
/// Bad paths, paths given twice and paths that would be both a file and a folder
/// are one [`Error::InvalidInput`] naming the first [`MAX_PROBLEMS`] of them.
pub fn plan(entries: &[Entry], ignore: Option<&[String]>) -> Result<Plan, Error> {
    let mut plan = Plan::default();
    let mut given = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut count = 0usize;
    for entry in entries {
        let path = entry.path.as_str();
        let problem = match (path_problem(path), before_ignored(path, ignore)) {
            (Some(why), _) => Some(why.to_string()),
            (None, Some(kept)) => plan.ensure(kept).err(),
            (None, None) => plan.add(path, entry.kind, &mut given).err(),
        };
        if let Some(why) = problem {
            count += 1;
            if problems.len() < MAX_PROBLEMS {
                problems.push(format!("{} {why}", quote(path)));
            }
        }
    }
    if count == 0 {
        return Ok(plan);
    }
    let mut message = format!("entries: {}", problems.join("; "));
    if count > problems.len() {
        message.push_str(&format!("; and {} more", count - problems.len()));
    }
    Err(Error::InvalidInput(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64) -> Entry {
        Entry {
            path: path.into(),
            kind: EntryKind::File { size, index: 0 },
        }
    }

    fn dir(path: &str) -> Entry {
        Entry {
            path: path.into(),
            kind: EntryKind::Directory,
        }
    }

    /// Entries with their given order as their index.
    fn numbered(mut entries: Vec<Entry>) -> Vec<Entry> {
        for (n, entry) in entries.iter_mut().enumerate() {
            if let EntryKind::File { index, .. } = &mut entry.kind {
                *index = n;
            }
        }
        entries
    }

    /// The plan as text: folders as `path<parent path`, files as
    /// `path@folder path#index`.
    fn shape(plan: &Plan) -> (Vec<String>, Vec<String>) {
        let folder_path = |at: Option<usize>| at.map_or("", |i| plan.folders[i].path.as_str());
        let folders = plan
            .folders
            .iter()
            .map(|f| format!("{}<{}", f.path, folder_path(f.parent)))
            .collect();
        let files = plan
            .files
            .iter()
            .map(|f| format!("{}@{}#{}", f.path, folder_path(f.folder), f.index))
            .collect();
        (folders, files)
    }

    fn refusal(entries: &[Entry]) -> String {
        match plan(entries, None) {
            Err(Error::InvalidInput(message)) => message,
            other => panic!("{entries:?}: expected INVALID_INPUT, got {other:?}"),
        }
    }

    /// Good trees: every ancestor made once, parents before children, empty
    /// folders kept, files with their folder, names exactly as given.
    #[test]
    fn plans_table() {
        let table: Vec<(Vec<Entry>, &[&str], &[&str])> = vec![
            (vec![], &[], &[]),
            (vec![file("a.pdf", 1)], &[], &["a.pdf@#0"]),
            (
                vec![
                    file("plans/A/a1.pdf", 1),
                    file("plans/A/a2.pdf", 2),
                    file("plans/B/b1.pdf", 3),
                    file("plans/index.txt", 4),
                ],
                &["plans<", "plans/A<plans", "plans/B<plans"],
                &[
                    "plans/A/a1.pdf@plans/A#0",
                    "plans/A/a2.pdf@plans/A#1",
                    "plans/B/b1.pdf@plans/B#2",
                    "plans/index.txt@plans#3",
                ],
            ),
            // A deep file first: its ancestors come top down.
            (
                vec![file("a/b/c/d.txt", 1), file("a/x.txt", 1), dir("a/b")],
                &["a<", "a/b<a", "a/b/c<a/b"],
                &["a/b/c/d.txt@a/b/c#0", "a/x.txt@a#1"],
            ),
            // Empty folders, nested, and one given before what is inside it.
            (
                vec![
                    dir("photos/empty"),
                    dir("photos"),
                    file("photos/day1/p.jpg", 5),
                    dir("top"),
                ],
                &[
                    "photos<",
                    "photos/empty<photos",
                    "photos/day1<photos",
                    "top<",
                ],
                &["photos/day1/p.jpg@photos/day1#2"],
            ),
            // Same names in different folders are different folders.
            (
                vec![file("a/same/x", 1), file("b/same/x", 1)],
                &["a<", "a/same<a", "b<", "b/same<b"],
                &["a/same/x@a/same#0", "b/same/x@b/same#1"],
            ),
            // Unicode and spaces kept exactly: composed and decomposed é apart, case
            // apart, spaces inside and around kept, Windows-forbidden characters kept.
            (
                vec![
                    file("Café/n\u{e9}.txt", 1),
                    file("Cafe\u{301}/ne\u{301}.txt", 1),
                    file(" lead/trail .pdf", 1),
                    file("PLANS/a", 1),
                    file("plans/a", 1),
                    file("q?/a<b>:\"|*\\.txt", 1),
                    file("図面/平面図 1.pdf", 1),
                ],
                &[
                    "Café<",
                    "Cafe\u{301}<",
                    " lead<",
                    "PLANS<",
                    "plans<",
                    "q?<",
                    "図面<",
                ],
                &[
                    "Café/n\u{e9}.txt@Café#0",
                    "Cafe\u{301}/ne\u{301}.txt@Cafe\u{301}#1",
                    " lead/trail .pdf@ lead#2",
                    "PLANS/a@PLANS#3",
                    "plans/a@plans#4",
                    "q?/a<b>:\"|*\\.txt@q?#5",
                    "図面/平面図 1.pdf@図面#6",
                ],
            ),
            // Dots inside names are names.
            (
                vec![file("...a/.b/c..", 1), file(".hidden", 1)],
                &["...a<", "...a/.b<...a"],
                &["...a/.b/c..@...a/.b#0", ".hidden@#1"],
            ),
        ];
        for (entries, folders, files) in table {
            let entries = numbered(entries);
            let got = plan(&entries, None).unwrap_or_else(|e| panic!("{entries:?}: {e}"));
            let (got_folders, got_files) = shape(&got);
            assert_eq!(got_folders, folders, "{entries:?}");
            assert_eq!(got_files, files, "{entries:?}");
            for (i, folder) in got.folders.iter().enumerate() {
                assert!(
                    folder.parent.is_none_or(|p| p < i),
                    "parent first: {folder:?}"
                );
            }
        }
    }

    /// Each bad entry and the reason given for it; nothing else planned.
    #[test]
    fn bad_paths_table() {
        let table: &[(Vec<Entry>, &str)] = &[
            (vec![file("", 1)], r#""" is empty"#),
            (vec![dir("")], r#""" is empty"#),
            (vec![file("/a", 1)], r#""/a" starts with "/""#),
            (vec![dir("a/")], r#""a/" ends with "/""#),
            (vec![file("a//b", 1)], r#""a//b" has an empty name ("//")"#),
            (vec![file("./a", 1)], r#""./a" has a "." or ".." name"#),
            (
                vec![file("a/../b", 1)],
                r#""a/../b" has a "." or ".." name"#,
            ),
            (vec![dir("a/..")], r#""a/.." has a "." or ".." name"#),
            (vec![file("a\nb", 1)], r#""a\nb" has a control character"#),
            (
                vec![file("a/b\u{0}", 1)],
                r#""a/b\u0000" has a control character"#,
            ),
            (
                vec![file("x\u{7f}/y", 1)],
                "\"x\u{7f}/y\" has a control character",
            ),
            (
                vec![file("x\u{85}", 1)],
                "\"x\u{85}\" has a control character",
            ),
            (
                vec![file("a/b", 1), file("a/b", 2)],
                r#""a/b" is given twice"#,
            ),
            (vec![dir("a/b"), dir("a/b")], r#""a/b" is given twice"#),
            (
                vec![file("a/b", 1), dir("a/b")],
                r#""a/b" is both a file and a folder"#,
            ),
            (
                vec![dir("a/b"), file("a/b", 1)],
                r#""a/b" is both a file and a folder"#,
            ),
            (
                vec![file("a/b/c", 1), file("a/b", 1)],
                r#""a/b" is both a file and a folder"#,
            ),
            (
                vec![file("a/b", 1), file("a/b/c/d", 1)],
                r#""a/b/c/d" is inside "a/b", which is a file"#,
            ),
            // Left out by name, yet what is above it is still made: a folder where a
            // file is.
            (
                vec![file("a", 1), file("a/.DS_Store", 1)],
                r#""a/.DS_Store" is inside "a", which is a file"#,
            ),
        ];
        for (entries, why) in table {
            assert_eq!(refusal(entries), format!("entries: {why}"), "{entries:?}");
        }
    }

    /// Every bad entry counts, the first few are named, one error for all.
    #[test]
    fn problems_are_gathered() {
        let mut entries = vec![file("good/a", 1)];
        for n in 0..8 {
            entries.push(file(&format!("bad{n}//x"), 1));
        }
        entries.push(file("good/a", 1));
        let message = refusal(&entries);
        assert!(
            message.starts_with(r#"entries: "bad0//x" has an empty name ("//"); "bad1//x""#),
            "{message}"
        );
        assert!(
            message.contains(r#""bad4//x""#) && !message.contains("bad5"),
            "{message}"
        );
        assert!(message.ends_with("; and 4 more"), "{message}");
        assert_eq!(
            refusal(&entries[..3]),
            r#"entries: "bad0//x" has an empty name ("//"); "bad1//x" has an empty name ("//")"#
        );
    }

    /// Ignored names: left out whatever their case, by default or as the caller
    /// says; their folders still made; an empty list ignores nothing.
    #[test]
    fn ignored_table() {
        let entries = numbered(vec![
            file(".DS_Store", 1),
            file("plans/.DS_Store", 1),
            file("plans/A/thumbs.db", 1),
            file("plans/A/a.pdf", 10),
            file("only/Desktop.ini", 1),
            file("only/DESKTOP.INI", 1),
            file(".git/config", 1),
            dir("x/.git"),
            file("x/.git/HEAD", 1),
            file("Thumbs.db.bak", 1),
        ]);
        let custom = [".git".to_string(), "A".to_string()];
        let none: [String; 0] = [];
        // (ignore, folders, files)
        type Row<'a> = (Option<&'a [String]>, &'a [&'a str], &'a [&'a str]);
        let table: Vec<Row> = vec![
            (
                None,
                &[
                    "plans<",
                    "plans/A<plans",
                    "only<",
                    ".git<",
                    "x<",
                    "x/.git<x",
                ],
                &[
                    "plans/A/a.pdf@plans/A#3",
                    ".git/config@.git#6",
                    "x/.git/HEAD@x/.git#8",
                    "Thumbs.db.bak@#9",
                ],
            ),
            (
                Some(&custom),
                &["plans<", "only<", "x<"],
                &[
                    ".DS_Store@#0",
                    "plans/.DS_Store@plans#1",
                    "only/Desktop.ini@only#4",
                    "only/DESKTOP.INI@only#5",
                    "Thumbs.db.bak@#9",
                ],
            ),
            (
                Some(&none),
                &[
                    "plans<",
                    "plans/A<plans",
                    "only<",
                    ".git<",
                    "x<",
                    "x/.git<x",
                ],
                &[
                    ".DS_Store@#0",
                    "plans/.DS_Store@plans#1",
                    "plans/A/thumbs.db@plans/A#2",
                    "plans/A/a.pdf@plans/A#3",
                    "only/Desktop.ini@only#4",
                    "only/DESKTOP.INI@only#5",
                    ".git/config@.git#6",
                    "x/.git/HEAD@x/.git#8",
                    "Thumbs.db.bak@#9",
                ],
            ),
        ];
        for (ignore, folders, files) in table {
            let got = plan(&entries, ignore).unwrap();
            let (got_folders, got_files) = shape(&got);
            assert_eq!(got_folders, folders, "{ignore:?}");
            assert_eq!(got_files, files, "{ignore:?}");
        }
        // Ignored, yet a bad path is still a bad path.
        assert_eq!(
            refusal(&[file("a//.DS_Store", 1)]),
            r#"entries: "a//.DS_Store" has an empty name ("//")"#
        );
    }

    #[test]
    fn bytes_and_names() {
        let got = plan(&[file("a/b.txt", 3), file("c", u64::MAX)], None).unwrap();
        assert_eq!(got.total_bytes(), u64::MAX);
        assert_eq!(got.files[0].name(), "b.txt");
        assert_eq!(got.files[1].name(), "c");
        assert_eq!(got.folders[0].name(), "a");
        assert_eq!(
            plan(&[file("a/b", 3), file("c", 4)], None)
                .unwrap()
                .total_bytes(),
            7
        );
    }
}
