//! A drawing backend that is `scale` times finer than the size it reports. The charts lay
//! themselves out in CSS pixels (fonts, margins, line widths); this wrapper multiplies
//! every coordinate, radius, stroke width and font size on the way to the backend below.
//! In the page the backend below is a canvas of CSS size × `window.devicePixelRatio`
//! device pixels, so a chart is as sharp as the screen and its 12 px text is 12 CSS px
//! whatever the screen.
//!
//! Why a wrapper rather than passing a scale to every chart: plotters lays out from
//! `get_size()` and from the font sizes it is given, so charts written in CSS pixels
//! stay in one unit throughout, and the same chart code draws SVG in tests at scale 1.

use plotters::prelude::*;
use plotters_backend::text_anchor::Pos;
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind, FontFamily, FontStyle, FontTransform,
};

pub struct ScaledBackend<B> {
    inner: B,
    scale: f64,
}

impl<B: DrawingBackend> ScaledBackend<B> {
    /// `inner` has `scale` device pixels per CSS pixel.
    pub fn new(inner: B, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 { scale } else { 1.0 };
        ScaledBackend { inner, scale }
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    fn point(&self, (x, y): BackendCoord) -> BackendCoord {
        ((x as f64 * self.scale).round() as i32, (y as f64 * self.scale).round() as i32)
    }

    fn length(&self, v: u32) -> u32 {
        if v == 0 {
            0
        } else {
            ((v as f64 * self.scale).round() as u32).max(1)
        }
    }

    fn stroke<S: BackendStyle>(&self, style: &S) -> Stroke {
        Stroke { color: style.color(), width: self.length(style.stroke_width()) }
    }
}

/// A line style whose width is scaled.
struct Stroke {
    color: BackendColor,
    width: u32,
}

impl BackendStyle for Stroke {
    fn color(&self) -> BackendColor {
        self.color
    }
    fn stroke_width(&self) -> u32 {
        self.width
    }
}

/// A text style whose size (and measured box) is scaled.
struct ScaledText<'a, T> {
    inner: &'a T,
    scale: f64,
}

impl<T: BackendTextStyle> BackendTextStyle for ScaledText<'_, T> {
    type FontError = T::FontError;
    fn color(&self) -> BackendColor {
        self.inner.color()
    }
    fn size(&self) -> f64 {
        self.inner.size() * self.scale
    }
    fn transform(&self) -> FontTransform {
        self.inner.transform()
    }
    fn style(&self) -> FontStyle {
        self.inner.style()
    }
    fn anchor(&self) -> Pos {
        self.inner.anchor()
    }
    fn family(&self) -> FontFamily<'_> {
        self.inner.family()
    }
    fn layout_box(&self, text: &str) -> Result<((i32, i32), (i32, i32)), Self::FontError> {
        let s = |v: i32| (v as f64 * self.scale).round() as i32;
        let ((x0, y0), (x1, y1)) = self.inner.layout_box(text)?;
        Ok(((s(x0), s(y0)), (s(x1), s(y1))))
    }
    fn draw<E, DrawFunc: FnMut(i32, i32, BackendColor) -> Result<(), E>>(
        &self,
        text: &str,
        pos: BackendCoord,
        draw: DrawFunc,
    ) -> Result<Result<(), E>, Self::FontError> {
        // Only pixel backends rasterize text themselves (the canvas and SVG do not);
        // they get the glyphs at the unscaled size.
        self.inner.draw(text, pos, draw)
    }
}

impl<B: DrawingBackend> DrawingBackend for ScaledBackend<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        let (w, h) = self.inner.get_size();
        // Rounded: a canvas of round(css × ratio) device pixels reports its CSS size.
        ((w as f64 / self.scale).round() as u32, (h as f64 / self.scale).round() as u32)
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if self.scale == 1.0 {
            return self.inner.draw_pixel(point, color);
        }
        let (x, y) = self.point(point);
        let s = self.length(1) as i32;
        self.inner.draw_rect((x, y), (x + s, y + s), &Stroke { color, width: 0 }, true)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let stroke = self.stroke(style);
        self.inner.draw_line(self.point(from), self.point(to), &stroke)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let stroke = self.stroke(style);
        self.inner.draw_rect(self.point(upper_left), self.point(bottom_right), &stroke, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let stroke = self.stroke(style);
        let path: Vec<BackendCoord> = path.into_iter().map(|p| self.point(p)).collect();
        self.inner.draw_path(path, &stroke)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let stroke = self.stroke(style);
        self.inner.draw_circle(self.point(center), self.length(radius), &stroke, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let stroke = self.stroke(style);
        let vert: Vec<BackendCoord> = vert.into_iter().map(|p| self.point(p)).collect();
        self.inner.fill_polygon(vert, &stroke)
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let scaled = ScaledText { inner: style, scale: self.scale };
        self.inner.draw_text(text, &scaled, self.point(pos))
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        // In CSS pixels, like everything the charts lay out.
        let ((x0, y0), (x1, y1)) = style.layout_box(text).map_err(|e| DrawingErrorKind::FontError(Box::new(e)))?;
        Ok(((x1 - x0) as u32, (y1 - y0) as u32))
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (w, h): (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if self.scale == 1.0 {
            return self.inner.blit_bitmap(pos, (w, h), src);
        }
        // Nearest-neighbour enlargement of an RGB bitmap (no chart blits today).
        let (sw, sh) = (self.length(w), self.length(h));
        let mut scaled = vec![0u8; (sw * sh * 3) as usize];
        for y in 0..sh {
            for x in 0..sw {
                let sx = ((x as f64 / self.scale) as u32).min(w.saturating_sub(1));
                let sy = ((y as f64 / self.scale) as u32).min(h.saturating_sub(1));
                let from = ((sy * w + sx) * 3) as usize;
                let to = ((y * sw + x) * 3) as usize;
                if let (Some(s), Some(d)) = (src.get(from..from + 3), scaled.get_mut(to..to + 3)) {
                    d.copy_from_slice(s);
                }
            }
        }
        self.inner.blit_bitmap(self.point(pos), (sw, sh), &scaled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::svg::{polylines, texts};

    #[test]
    fn draws_css_pixels_at_twice_the_device_pixels() {
        let mut svg = String::new();
        {
            let backend = ScaledBackend::new(SVGBackend::with_string(&mut svg, (400, 200)), 2.0);
            assert_eq!(backend.get_size(), (200, 100));
            let root = backend.into_drawing_area();
            assert_eq!(root.dim_in_pixel(), (200, 100));
            root.draw(&PathElement::new(vec![(10, 20), (30, 40)], Color::stroke_width(&BLUE, 2))).unwrap();
            root.draw(&Text::new("label", (50, 60), ("sans-serif", 12).into_font())).unwrap();
            root.present().unwrap();
        }
        let line = &polylines(&svg)[0];
        assert_eq!(line.points, [(20.0, 40.0), (60.0, 80.0)]);
        assert_eq!(line.width, 4.0);
        let text = texts(&svg).into_iter().find(|t| t.content == "label").unwrap();
        assert_eq!((text.x, text.y), (100.0, 120.0));
        assert!((text.css_px() - 24.0).abs() < 0.01, "{}", text.css_px());
    }
}
