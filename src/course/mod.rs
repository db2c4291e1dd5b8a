//! The course: its lessons in order, in English and Simplified Chinese, and their text
//! turned into HTML with MathML formulas (no network, no JavaScript typesetting).
//!
//! A lesson is a Markdown file `www/lessons/<id>.<lang>.md` compiled into the page. Its
//! first line is `# Title`, then an italic one-line summary. A paragraph consisting of
//! `@live <widget>` marks where a live piece (an experiment or a computation the student
//! runs) goes; the page puts the widget of that name there. Inline math is `$…$`, display
//! math `$$…$$` on its own paragraph.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};
use pulldown_latex::config::DisplayMode;
use pulldown_latex::{push_mathml, RenderConfig, Storage};

/// The page's two languages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Zh];

    /// The code used in URLs, storage and `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh",
        }
    }

    /// `en`, `en-GB`, `zh`, `zh-CN`, `zh-Hans-CN` …; anything else is None.
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "zh" => Some(Lang::Zh),
            _ => None,
        }
    }

    /// The name of the language in itself, for the language switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Zh => "简体中文",
        }
    }
}

/// One lesson: its id (used in URLs) and its source in each language.
pub struct Lesson {
    pub id: &'static str,
    en: &'static str,
    zh: &'static str,
}

macro_rules! lesson {
    ($id:literal, $file:literal) => {
        Lesson {
            id: $id,
            en: include_str!(concat!("../../www/lessons/", $file, ".en.md")),
            zh: include_str!(concat!("../../www/lessons/", $file, ".zh.md")),
        }
    };
}

/// The lessons in course order.
pub static LESSONS: &[Lesson] = &[
    lesson!("l1", "l1"),
    lesson!("l2", "l2"),
    lesson!("l3", "l3"),
    lesson!("l4", "l4"),
    lesson!("l5", "l5"),
    lesson!("l6", "l6"),
    lesson!("l7", "l7"),
    lesson!("l8", "l8"),
    lesson!("l9", "l9"),
    lesson!("l11", "l11"),
    lesson!("playground", "l10"),
];

/// Pages for the teacher, after the course: the device self-check a student runs and
/// hands in, and the class view that overlays the runs a class exported. They are read
/// like lessons (Markdown with live pieces) but are not part of the course's order.
pub static TEACHER_PAGES: &[Lesson] = &[lesson!("self-check", "self-check"), lesson!("class", "class")];

impl Lesson {
    pub fn find(id: &str) -> Option<&'static Lesson> {
        LESSONS.iter().chain(TEACHER_PAGES).find(|l| l.id == id)
    }

    /// The list the page belongs to: the course, or the teacher's pages.
    fn list(&self) -> &'static [Lesson] {
        if TEACHER_PAGES.iter().any(|l| l.id == self.id) {
            TEACHER_PAGES
        } else {
            LESSONS
        }
    }

    pub fn is_teacher_page(&self) -> bool {
        std::ptr::eq(self.list(), TEACHER_PAGES)
    }

    /// Position in its list, from 0.
    pub fn index(&self) -> usize {
        self.list().iter().position(|l| l.id == self.id).unwrap_or(0)
    }

    pub fn source(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::En => self.en,
            Lang::Zh => self.zh,
        }
    }

    /// The text of the first line's `# Title`.
    pub fn title(&self, lang: Lang) -> &'static str {
        self.source(lang).lines().next().unwrap_or("").trim_start_matches('#').trim()
    }

    /// The previous and next pages of its list, if any.
    pub fn neighbours(&self) -> (Option<&'static Lesson>, Option<&'static Lesson>) {
        let (list, i) = (self.list(), self.index());
        (i.checked_sub(1).and_then(|p| list.get(p)), list.get(i + 1))
    }
}

/// A piece of a rendered lesson.
#[derive(Clone, Debug, PartialEq)]
pub enum Segment {
    /// Trusted HTML made from the lesson's own Markdown (never from user input).
    Html(String),
    /// The live piece of this name.
    Live(String),
}

/// Renders a lesson's Markdown (see the module docs). A formula that does not parse is
/// reported in `errors` (and shown in red in the page) rather than failing the lesson.
pub fn render(markdown: &str) -> (Vec<Segment>, Vec<String>) {
    let options = Options::ENABLE_TABLES | Options::ENABLE_MATH | Options::ENABLE_STRIKETHROUGH;
    let events: Vec<Event> = Parser::new_ext(markdown, options).collect();
    let mut segments = Vec::new();
    let mut errors = Vec::new();
    let mut pending: Vec<Event> = Vec::new();
    let mut storage = Storage::new();
    let mut i = 0;
    while i < events.len() {
        // `@live name` alone in a paragraph.
        if let (Event::Start(Tag::Paragraph), Some(Event::Text(text)), Some(Event::End(TagEnd::Paragraph))) =
            (&events[i], events.get(i + 1), events.get(i + 2))
        {
            if let Some(name) = text.trim().strip_prefix("@live ") {
                flush(&mut pending, &mut segments);
                segments.push(Segment::Live(name.trim().to_string()));
                i += 3;
                continue;
            }
        }
        match &events[i] {
            Event::InlineMath(tex) => pending.push(Event::InlineHtml(math(tex, false, &mut storage, &mut errors))),
            Event::DisplayMath(tex) => pending.push(Event::Html(math(tex, true, &mut storage, &mut errors))),
            other => pending.push(other.clone()),
        }
        i += 1;
    }
    flush(&mut pending, &mut segments);
    (segments, errors)
}

fn flush(pending: &mut Vec<Event>, segments: &mut Vec<Segment>) {
    if pending.is_empty() {
        return;
    }
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, pending.drain(..));
    segments.push(Segment::Html(html));
}

/// LaTeX → MathML. The LaTeX source rides along as an annotation (screen readers and
/// copy-paste).
fn math<'a>(tex: &str, display: bool, storage: &mut Storage, errors: &mut Vec<String>) -> CowStr<'a> {
    let config = RenderConfig {
        display_mode: if display { DisplayMode::Block } else { DisplayMode::Inline },
        annotation: Some(tex),
        ..RenderConfig::default()
    };
    let parser = pulldown_latex::Parser::new(tex, storage);
    let events: Vec<_> = parser.collect();
    if let Some(Err(error)) = events.iter().find(|e| e.is_err()) {
        errors.push(format!("{tex}: {error}"));
    }
    let mut out = String::new();
    if let Err(error) = push_mathml(&mut out, events.into_iter(), config) {
        errors.push(format!("{tex}: {error}"));
    }
    storage.reset();
    CowStr::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn live_ids(lesson: &Lesson, lang: Lang) -> Vec<String> {
        render(lesson.source(lang))
            .0
            .into_iter()
            .filter_map(|s| match s {
                Segment::Live(id) => Some(id),
                Segment::Html(_) => None,
            })
            .collect()
    }

    #[test]
    fn every_lesson_renders_without_formula_errors_in_both_languages() {
        for lesson in LESSONS.iter().chain(TEACHER_PAGES) {
            for lang in Lang::ALL {
                let (segments, errors) = render(lesson.source(lang));
                assert!(errors.is_empty(), "{} ({}): {errors:?}", lesson.id, lang.code());
                let html: String = segments
                    .iter()
                    .filter_map(|s| match s {
                        Segment::Html(h) => Some(h.as_str()),
                        Segment::Live(_) => None,
                    })
                    .collect();
                assert!(html.contains("<h1>"), "{} ({}) has a title", lesson.id, lang.code());
                assert!(!html.contains('$'), "{} ({}) has unconverted math", lesson.id, lang.code());
                assert!(!lesson.title(lang).is_empty());
            }
        }
    }

    #[test]
    fn both_languages_place_the_same_live_pieces() {
        for lesson in LESSONS.iter().chain(TEACHER_PAGES) {
            let en = live_ids(lesson, Lang::En);
            assert!(!en.is_empty(), "{} has a live piece", lesson.id);
            assert_eq!(en, live_ids(lesson, Lang::Zh), "{}", lesson.id);
        }
    }

    #[test]
    fn formulas_become_mathml_and_live_markers_split_the_text() {
        let (segments, errors) = render("# T\n\nWith $x^2$ and\n\n$$\\frac{a}{b}$$\n\n@live demo\n\nAfter.");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(segments.len(), 3);
        let Segment::Html(before) = &segments[0] else { panic!("{segments:?}") };
        assert!(before.contains("<math") && before.contains("<mfrac"), "{before}");
        assert!(before.contains("display=\"block\""), "{before}");
        assert_eq!(segments[1], Segment::Live("demo".into()));
    }

    #[test]
    fn broken_formulas_are_reported() {
        let (_, errors) = render("Text $x$ and $\\nosuchcommand$.");
        assert_eq!(errors.len(), 1, "{errors:?}");
    }

    #[test]
    fn languages_parse_from_browser_codes() {
        assert_eq!(Lang::parse("zh-CN"), Some(Lang::Zh));
        assert_eq!(Lang::parse("zh-Hans-CN"), Some(Lang::Zh));
        assert_eq!(Lang::parse("en-GB"), Some(Lang::En));
        assert_eq!(Lang::parse("fr"), None);
    }

    #[test]
    fn neighbours_follow_course_order() {
        let first = &LESSONS[0];
        assert!(first.neighbours().0.is_none());
        assert_eq!(first.neighbours().1.map(|l| l.id), Some(LESSONS[1].id));
        assert_eq!(Lesson::find("l3").map(|l| l.index()), Some(2));
        // The course ends at the playground; the teacher's pages lead only to each other.
        assert!(LESSONS.last().is_some_and(|l| l.neighbours().1.is_none()));
        let check = Lesson::find("self-check").expect("the self-check page");
        assert!(check.is_teacher_page() && !LESSONS[0].is_teacher_page());
        assert!(check.neighbours().0.is_none());
        assert_eq!(check.neighbours().1.map(|l| l.id), Some("class"));
    }
}
