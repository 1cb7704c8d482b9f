//! Colour contrast for a site's theme colour (issue 15): readable text on the
//! accent colour, and an accent "ink" dark enough for text, links and focus
//! rings on white.
//!
//! Relative luminance and contrast ratio are WCAG 2.2's definitions
//! (<https://www.w3.org/TR/WCAG22/#dfn-relative-luminance>,
//! <https://www.w3.org/TR/WCAG22/#dfn-contrast-ratio>); 4.5:1 is the minimum
//! contrast of normal text (Success Criterion 1.4.3, Contrast (Minimum), AA).

/// White, the usual text colour on a dark accent.
pub const WHITE: &str = "#ffffff";

/// Near-black (Tailwind gray-900), the text colour on a light accent.
pub const DARK_TEXT: &str = "#111827";

/// Minimum contrast of normal text, WCAG 2.2 SC 1.4.3 (AA).
pub const MIN_TEXT_CONTRAST: f64 = 4.5;

/// Steps from the colour to black tried by [`ink_on_white`]: each mixes 5 %
/// more black in.
const INK_STEPS: u32 = 20;

/// An sRGB colour, 8 bits a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// Parses `#rrggbb` (either case); `None` for anything else.
    pub fn parse(hex: &str) -> Option<Rgb> {
        let digits = hex.strip_prefix('#').filter(|d| d.len() == 6 && d.is_ascii())?;
        let channel = |i: usize| u8::from_str_radix(&digits[i..i + 2], 16).ok();
        Some(Rgb(channel(0)?, channel(2)?, channel(4)?))
    }

    /// `#rrggbb`, lower case.
    pub fn to_hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Relative luminance, 0.0 (black) to 1.0 (white), WCAG 2.2's
    /// definition: each sRGB channel linearised (`c / 12.92` up to 0.04045,
    /// else `((c + 0.055) / 1.055)^2.4`), weighted 0.2126 R + 0.7152 G + 0.0722 B.
    pub fn relative_luminance(self) -> f64 {
        let linear = |channel: u8| {
            let c = f64::from(channel) / 255.0;
            if c <= 0.04045 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * linear(self.0) + 0.7152 * linear(self.1) + 0.0722 * linear(self.2)
    }

    /// This colour mixed with black: `share` 0.0 keeps it, 1.0 is black.
    fn toward_black(self, share: f64) -> Rgb {
        let mix = |channel: u8| (f64::from(channel) * (1.0 - share)).round() as u8;
        Rgb(mix(self.0), mix(self.1), mix(self.2))
    }
}

/// Contrast ratio of two colours, 1.0 to 21.0, in either order:
/// `(L1 + 0.05) / (L2 + 0.05)` with L1 the lighter's relative luminance
/// (WCAG 2.2, "contrast ratio").
pub fn contrast_ratio(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (a.relative_luminance(), b.relative_luminance());
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// The text colour to write on `background` (`#rrggbb`): [`WHITE`] or
/// [`DARK_TEXT`], whichever contrasts more (white on a tie). A malformed
/// colour answers white.
pub fn readable_text_on(background: &str) -> &'static str {
    let Some(background) = Rgb::parse(background) else { return WHITE };
    let white = contrast_ratio(background, Rgb(0xff, 0xff, 0xff));
    let dark = contrast_ratio(background, Rgb(0x11, 0x18, 0x27));
    if dark > white {
        DARK_TEXT
    } else {
        WHITE
    }
}

/// `color` (`#rrggbb`) as text on white: the colour itself when it contrasts
/// with white at least 4.5:1 (SC 1.4.3), else the first of it mixed with 5 %,
/// 10 %, … black that does (black itself is 21:1). Answers `#rrggbb` in lower
/// case; a malformed colour answers itself.
pub fn ink_on_white(color: &str) -> String {
    let Some(rgb) = Rgb::parse(color) else { return color.to_string() };
    let white = Rgb(0xff, 0xff, 0xff);
    (0..=INK_STEPS)
        .map(|step| rgb.toward_black(f64::from(step) / f64::from(INK_STEPS)))
        .find(|ink| contrast_ratio(*ink, white) >= MIN_TEXT_CONTRAST)
        .unwrap_or(Rgb(0, 0, 0))
        .to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rgb(hex: &str) -> Rgb {
        Rgb::parse(hex).expect("a #rrggbb colour")
    }

    #[test]
    fn relative_luminance_follows_the_wcag_definition() {
        // WCAG 2.2 "relative luminance": 0 for the darkest black, 1 for the lightest white.
        assert_eq!(rgb("#000000").relative_luminance(), 0.0);
        assert!((rgb("#FFFFFF").relative_luminance() - 1.0).abs() < 1e-9);
        // Mid grey #777777: channel 0.4667 linearised to 0.1845.
        assert!((rgb("#777777").relative_luminance() - 0.1845).abs() < 1e-3);
    }

    #[test]
    fn contrast_ratios_match_known_values() {
        // Black on white is the maximum, 21:1; a colour on itself is 1:1.
        assert!((contrast_ratio(rgb("#000000"), rgb("#ffffff")) - 21.0).abs() < 1e-9);
        assert_eq!(contrast_ratio(rgb("#4f46e5"), rgb("#4f46e5")), 1.0);
        // #767676 on white is the classic lightest grey passing SC 1.4.3 (4.54:1); #777777 fails (4.48:1).
        assert!(contrast_ratio(rgb("#767676"), rgb("#ffffff")) >= MIN_TEXT_CONTRAST);
        assert!(contrast_ratio(rgb("#777777"), rgb("#ffffff")) < MIN_TEXT_CONTRAST);
        assert_eq!(contrast_ratio(rgb("#ffffff"), rgb("#767676")), contrast_ratio(rgb("#767676"), rgb("#ffffff")));
    }

    #[test]
    fn text_on_the_accent_is_white_on_dark_and_dark_on_light_colours() {
        assert_eq!(readable_text_on("#4f46e5"), WHITE, "the default indigo");
        assert_eq!(readable_text_on("#000000"), WHITE);
        assert_eq!(readable_text_on("#ffeb3b"), DARK_TEXT, "a yellow");
        assert_eq!(readable_text_on("#ffffff"), DARK_TEXT);
        assert_eq!(readable_text_on("#22c55e"), DARK_TEXT, "a light green: white would be 2.3:1");
    }

    #[test]
    fn ink_is_the_colour_itself_when_dark_enough_else_darkened_to_4_5_to_1() {
        assert_eq!(ink_on_white("#4F46E5"), "#4f46e5", "already 6.3:1 on white");
        for color in ["#ffeb3b", "#22c55e", "#ffffff", "#38bdf8", "#f97316"] {
            let ink = ink_on_white(color);
            let ratio = contrast_ratio(rgb(&ink), rgb(WHITE));
            assert!(ratio >= MIN_TEXT_CONTRAST, "{color} -> {ink}: {ratio}");
            // One step less black would not pass: the ink stays as close to the colour as it can.
            let share = (0..=INK_STEPS).find(|s| rgb(color).toward_black(f64::from(*s) / 20.0) == rgb(&ink)).expect("a step");
            assert!(share > 0, "{color} needed darkening");
            let lighter = rgb(color).toward_black(f64::from(share - 1) / 20.0);
            assert!(contrast_ratio(lighter, rgb(WHITE)) < MIN_TEXT_CONTRAST, "{color}: step {share} is the first that passes");
        }
        assert_eq!(ink_on_white("#ffffff"), "#737373", "white darkens to the first passing grey (4.7:1; #808080 is 3.9:1)");
    }

    #[test]
    fn only_rrggbb_colours_parse() {
        assert_eq!(Rgb::parse("#4f46E5"), Some(Rgb(0x4f, 0x46, 0xe5)));
        for bad in ["4f46e5", "#4f46e", "#4f46e5ff", "#gggggg", "#ééé"] {
            assert_eq!(Rgb::parse(bad), None, "{bad}");
        }
        assert_eq!(readable_text_on("nope"), WHITE);
        assert_eq!(ink_on_white("nope"), "nope");
    }
}
