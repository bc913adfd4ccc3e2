//! Text measurement for the length of rules: Liberation Serif advances (metric-compatible with
//! Times New Roman, so Word with the real font breaks lines at the same places) and greedy line
//! breaking at spaces, which is what Word and LibreOffice do with Vietnamese text.

use crate::document::Run;
use crate::fonts::{Face, Fonts, Style};

/// Advance used when a font or a glyph is missing, in em.
const FALLBACK_ADVANCE_EM: f32 = 0.5;

/// Advance of `c` in em in the given face.
fn advance_em(face: Option<&Face>, c: char) -> f32 {
    match face.map(|f| f.glyph(c)) {
        Some((gid, advance)) if gid != 0 => advance,
        _ => FALLBACK_ADVANCE_EM,
    }
}

/// How a paragraph breaks into lines.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct LastLine {
    /// Width of the last line without trailing spaces, in points.
    pub(super) width_pt: f32,
    /// Number of lines (at least 1).
    pub(super) count: usize,
}

impl LastLine {
    /// Whether the last line is also the first (and so carries the first-line indent).
    pub(super) fn is_first_line(&self) -> bool {
        self.count == 1
    }
}

/// The lines of `runs` set at `size_pt` in a box `width_pt` wide whose first line is indented
/// by `first_indent_pt`: forced breaks at `'\n'`, greedy breaks at spaces.
pub(super) fn last_line(
    runs: &[Run],
    size_pt: f32,
    width_pt: f32,
    first_indent_pt: f32,
) -> LastLine {
    let fonts = Fonts::get();
    let mut lines = Lines {
        width: width_pt,
        first_indent: first_indent_pt.max(0.0),
        index: 0,
        line: 0.0,
        line_has_word: false,
        space: 0.0,
        word: 0.0,
        in_word: false,
    };
    for run in runs {
        let face = fonts.map(|f| f.face(Style::of(run.bold, run.italic)));
        for c in run.text.chars() {
            match c {
                '\n' => lines.break_line(),
                ' ' | '\t' | '\u{A0}' => lines.space(advance_em(face, ' ') * size_pt),
                _ => lines.letter(advance_em(face, c) * size_pt),
            }
        }
    }
    lines.end_word();
    LastLine {
        width_pt: lines.line,
        count: lines.index + 1,
    }
}

/// Greedy line-breaking state.
struct Lines {
    width: f32,
    first_indent: f32,
    /// Index of the current line.
    index: usize,
    /// Width of the current line up to the end of its last word.
    line: f32,
    line_has_word: bool,
    /// Width of the spaces after the current line's last word.
    space: f32,
    /// Width of the word being read.
    word: f32,
    in_word: bool,
}

impl Lines {
    fn available(&self) -> f32 {
        if self.index == 0 {
            self.width - self.first_indent
        } else {
            self.width
        }
    }

    fn letter(&mut self, advance: f32) {
        self.word += advance;
        self.in_word = true;
    }

    fn space(&mut self, advance: f32) {
        self.end_word();
        if self.line_has_word {
            self.space += advance;
        }
    }

    fn end_word(&mut self) {
        if !self.in_word {
            return;
        }
        if self.line_has_word && self.line + self.space + self.word > self.available() {
            self.index += 1;
            self.line = self.word;
        } else if self.line_has_word {
            self.line += self.space + self.word;
        } else {
            self.line = self.word;
        }
        self.line_has_word = true;
        self.space = 0.0;
        self.word = 0.0;
        self.in_word = false;
    }

    fn break_line(&mut self) {
        self.end_word();
        self.index += 1;
        self.line = 0.0;
        self.line_has_word = false;
        self.space = 0.0;
    }
}
