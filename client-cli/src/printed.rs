//! Printed letters for people on paper: an A4 PDF with real, embedded text (DejaVu Sans), the
//! service's heading, the dates, what kind of message it is and its verification code (also as
//! a QR code on the first page); and reading a printed letter's text back, to check it.
//!
//! The text hashed into the printing statement is every line drawn, in the order drawn
//! ([`Printed::text`]); [`read_text`] gives it back from the PDF, and
//! [`ferry_crypto::paper::canonical_text`] makes the two comparable whatever the line breaks.

use anyhow::{Context, Result, bail};
use ferry_crypto::paper::LetterCode;
use ferry_crypto::{MessageKind, Role};
use krilla::Document;
use krilla::geom::{PathBuilder, Point, Rect};
use krilla::metadata::Metadata;
use krilla::page::PageSettings;
use krilla::surface::Surface;
use krilla::text::{Font, TextDirection};

/// DejaVu Sans (see `assets/README.md`).
const FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// A4, in points.
const PAGE: (f32, f32) = (595.28, 841.89);
const MARGIN: f32 = 64.0;
/// Room kept at the foot of each page for the code and the page number.
const FOOT: f32 = 84.0;
const BODY_SIZE: f32 = 11.5;
const BODY_LEADING: f32 = 16.5;
/// The QR code's side on the first page.
const QR_SIDE: f32 = 76.0;

/// What goes on a printed letter. Nothing names the other party: a letter to someone in
/// prison is read by the prison's staff.
pub struct Letter<'a> {
    /// The service's name, at the head of each letter.
    pub service: &'a str,
    /// The person on paper it is for.
    pub recipient: &'a str,
    /// Letter, question or answer.
    pub kind: MessageKind,
    /// The role of the person who wrote it.
    pub from: Role,
    /// The facilitator who passed it on.
    pub facilitator: &'a str,
    /// When it was passed on (Unix seconds).
    pub approved_at: i64,
    /// When it is printed (Unix seconds).
    pub printed_at: i64,
    /// Whether the facilitator changed it before passing it on.
    pub redacted: bool,
    /// The text.
    pub body: &'a str,
    /// Its verification code.
    pub code: &'a LetterCode,
    /// Where the code is checked (the server's `/verify` page).
    pub verify_url: &'a str,
}

/// A letter laid out and written as a PDF.
pub struct Printed {
    /// The PDF file.
    pub pdf: Vec<u8>,
    /// Every line drawn, in order, one per line.
    pub text: String,
    /// Pages.
    pub pages: usize,
}

/// One line of text at a size.
struct Line {
    text: String,
    size: f32,
    /// From its top to the next line's top, in points.
    leading: f32,
}

/// Lays `letter` out on A4 pages and writes the PDF.
pub fn print(letter: &Letter<'_>) -> Result<Printed> {
    let font = Font::new(FONT.into(), 0).context("the letter font cannot be read")?;
    let face = rustybuzz::Face::from_slice(FONT, 0).context("the letter font cannot be read")?;
    let measure = |text: &str, size: f32| width(&face, text, size);
    let full = PAGE.0 - 2.0 * MARGIN;
    let mut head = vec![
        line(letter.service, 15.0, 20.0),
        line(
            &format!(
                "For {}. Printed on {}.",
                plain(letter.recipient),
                ferry_protocol::format_date(letter.printed_at)
            ),
            10.0,
            26.0,
        ),
        line(&what_it_is(letter.kind, letter.from), 13.0, 17.0),
        line(
            &format!(
                "Passed on to you by {}, your facilitator, on {}.",
                plain(letter.facilitator),
                ferry_protocol::format_date(letter.approved_at)
            ),
            10.0,
            if letter.redacted { 14.0 } else { 26.0 },
        ),
    ];
    if letter.redacted {
        head.push(line(
            "Your facilitator took out some details before passing it on.",
            10.0,
            26.0,
        ));
    }
    // The head shares its first lines with the QR code, at the top right.
    let head_width = full - QR_SIDE - 12.0;
    let mut head_lines = vec![];
    for l in head {
        for text in wrap(&l.text, head_width, |t| measure(t, l.size)) {
            head_lines.push(Line {
                text,
                size: l.size,
                leading: l.size * 1.35,
            });
        }
        if let Some(last) = head_lines.last_mut() {
            last.leading = l.leading;
        }
    }
    let mut body = vec![];
    for paragraph in plain(letter.body).split('\n') {
        let lines = wrap(paragraph, full, |t| measure(t, BODY_SIZE));
        if lines.is_empty() {
            body.push(None);
        }
        body.extend(lines.into_iter().map(Some));
    }
    // Pages: the head on the first, then as many body lines as fit on each.
    let top = MARGIN;
    let bottom = PAGE.1 - FOOT;
    let mut pages: Vec<Vec<(f32, Line)>> = vec![vec![]];
    let mut y = top;
    for l in head_lines {
        let leading = l.leading;
        pages[0].push((y + l.size, l));
        y += leading;
    }
    y = y.max(top + QR_SIDE + 12.0);
    for text in body {
        if y + BODY_SIZE > bottom {
            pages.push(vec![]);
            y = top;
        }
        if let (Some(text), Some(page)) = (text, pages.last_mut()) {
            page.push((
                y + BODY_SIZE,
                Line {
                    text,
                    size: BODY_SIZE,
                    leading: BODY_LEADING,
                },
            ));
        }
        y += BODY_LEADING;
    }
    let total = pages.len();
    let check = format!(
        "To check this letter, go to {} and type its code, or scan the square code.",
        letter.verify_url
    );
    let mut document = Document::new();
    document.set_metadata(
        Metadata::new()
            .title(format!(
                "{} for {}",
                what_it_is(letter.kind, letter.from),
                plain(letter.recipient)
            ))
            .creator("Ferry".into())
            .language("en".into()),
    );
    let mut text = String::new();
    for (n, lines) in pages.into_iter().enumerate() {
        let settings = PageSettings::from_wh(PAGE.0, PAGE.1).context("the page size")?;
        let mut page = document.start_page_with(settings);
        let mut surface = page.surface();
        if n == 0 {
            draw_qr(&mut surface, letter)?;
        }
        let mut foot = vec![];
        for (k, t) in wrap(&check, full, |t| measure(t, 9.0))
            .into_iter()
            .enumerate()
        {
            foot.push((PAGE.1 - FOOT + 30.0 + 12.0 * k as f32, line(&t, 9.0, 12.0)));
        }
        foot.push((
            PAGE.1 - FOOT + 30.0 + 12.0 * foot.len() as f32,
            line(
                &format!("Code {}   Page {} of {total}", letter.code, n + 1),
                9.0,
                12.0,
            ),
        ));
        for (y, l) in lines.iter().chain(&foot) {
            // A space ends each line, so that text read back keeps the lines' words apart.
            surface.draw_text(
                Point::from_xy(MARGIN, *y),
                font.clone(),
                l.size,
                &format!("{} ", l.text),
                false,
                TextDirection::Auto,
            );
            text.push_str(&l.text);
            text.push('\n');
        }
        surface.finish();
        page.finish();
    }
    let pdf = document
        .finish()
        .map_err(|e| anyhow::anyhow!("the letter could not be written as a PDF: {e:?}"))?;
    Ok(Printed {
        pdf,
        text,
        pages: total,
    })
}

fn line(text: &str, size: f32, leading: f32) -> Line {
    Line {
        text: text.to_owned(),
        size,
        leading,
    }
}

/// What the letter is, in words that name no one.
fn what_it_is(kind: MessageKind, from: Role) -> String {
    let from = match from {
        Role::Harmed => "the person who was harmed",
        Role::Responsible => "the person responsible for the harm",
        _ => "a supporter",
    };
    match kind {
        MessageKind::Question => format!("A question from {from}"),
        MessageKind::Answer => format!("An answer from {from}"),
        MessageKind::Letter => format!("A letter from {from}"),
    }
}

/// `text` as it can be printed and read back: control and invisible formatting characters
/// become spaces (a line break stays), and tabs are spaces.
fn plain(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' => '\n',
            '\u{ad}' => ' ',
            c if crate::output::hidden(c) || c == '\t' => ' ',
            c => c,
        })
        .collect()
}

/// The width of `text` at `size`, as shaped.
fn width(face: &rustybuzz::Face<'_>, text: &str, size: f32) -> f32 {
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    let shaped = rustybuzz::shape(face, &[], buffer);
    let units: i32 = shaped.glyph_positions().iter().map(|p| p.x_advance).sum();
    units as f32 * size / f32::from(face.units_per_em() as u16)
}

/// Breaks `paragraph` into lines no wider than `max` (as `measure` says), between words; a
/// word too long for a line is broken where it must be. An empty paragraph has no lines.
fn wrap(paragraph: &str, max: f32, measure: impl Fn(&str) -> f32) -> Vec<String> {
    let mut lines = vec![];
    let mut current = String::new();
    for word in paragraph.split_whitespace() {
        let candidate = if current.is_empty() {
            word.to_owned()
        } else {
            format!("{current} {word}")
        };
        if measure(&candidate) <= max {
            current = candidate;
            continue;
        }
        if !current.is_empty() {
            lines.push(std::mem::take(&mut current));
        }
        // A word longer than a line goes on as many lines as it needs.
        for c in word.chars() {
            current.push(c);
            if measure(&current) > max {
                current.pop();
                lines.push(std::mem::take(&mut current));
                current.push(c);
            }
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// The QR code of the check address with the code, at the top right of the first page.
fn draw_qr(surface: &mut Surface<'_>, letter: &Letter<'_>) -> Result<()> {
    let target = format!("{}#{}", letter.verify_url, letter.code);
    let qr = qrcode::QrCode::new(target.as_bytes()).context("the square code")?;
    let n = qr.width();
    let module = QR_SIDE / n as f32;
    let (x0, y0) = (PAGE.0 - MARGIN - QR_SIDE, MARGIN - 8.0);
    let mut path = PathBuilder::new();
    for (i, color) in qr.to_colors().into_iter().enumerate() {
        if color != qrcode::Color::Dark {
            continue;
        }
        let (x, y) = ((i % n) as f32, (i / n) as f32);
        if let Some(rect) = Rect::from_xywh(x0 + x * module, y0 + y * module, module, module) {
            path.push_rect(rect);
        }
    }
    match path.finish() {
        Some(path) => surface.draw_path(&path),
        None => bail!("the square code is empty"),
    }
    Ok(())
}

/// The text of a PDF, page by page, as drawn.
pub fn read_text(pdf: &[u8]) -> Result<String> {
    pdf_extract::extract_text_from_mem(pdf)
        .map_err(|e| anyhow::anyhow!("the text of this PDF cannot be read: {e}"))
}

#[cfg(test)]
mod tests {
    use super::{Letter, print, read_text};
    use ferry_crypto::paper::{LetterCode, canonical_text};
    use ferry_crypto::{MessageKind, Role};

    #[test]
    fn a_printed_letter_reads_back_as_the_text_drawn() -> anyhow::Result<()> {
        let code = LetterCode::generate();
        let body =
            "Dear Rory,\n\nWhy our house? I’d like to know — really. Café, naïve, «quotes».\n\n"
                .to_owned()
                + &"A long paragraph that goes on and on so that it must wrap over several lines. "
                    .repeat(60)
                + "\nSupercalifragilisticexpialidocious".repeat(3).as_str()
                + "\u{202e}hidden\u{7}bell";
        let letter = Letter {
            service: "Northshire Restorative Justice",
            recipient: "Rory",
            kind: MessageKind::Question,
            from: Role::Harmed,
            facilitator: "Fiona",
            approved_at: 1_790_000_000,
            printed_at: 1_790_086_400,
            redacted: true,
            body: &body,
            code: &code,
            verify_url: "https://ferry.example/verify",
        };
        let printed = print(&letter)?;
        assert!(printed.pages >= 2, "{} pages", printed.pages);
        assert!(printed.pdf.starts_with(b"%PDF-"));
        let read = read_text(&printed.pdf)?;
        assert_eq!(canonical_text(&read), canonical_text(&printed.text));
        assert!(read.contains("A question from the person who was harmed"));
        assert!(read.contains(&code.to_string()));
        assert!(!printed.text.contains('\u{202e}'));
        Ok(())
    }
}
