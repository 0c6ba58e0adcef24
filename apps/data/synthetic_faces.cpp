// Drawing the synthetic faces (synthetic_faces.h). Shapes are filled by testing each pixel
// centre against an implicit equation; no anti-aliasing, the detector does not mind.
#include "apps/data/synthetic_faces.h"

#include <algorithm>
#include <cmath>

#include "apps/data/seed_derivation.h"

namespace maskdet::data {

const std::vector<std::string>& synthetic_classes() {
  static const std::vector<std::string> classes{"mask", "noMask"};
  return classes;
}

namespace {

constexpr int kMaskClass = 0, kNoMaskClass = 1;

struct Color {
  double r, g, b;
};

double uniform(Generator& gen, double lo, double hi) { return lo + (hi - lo) * gen.uniform(); }

Color jitter(const Color& c, double amount, Generator& gen) {
  return {c.r + uniform(gen, -amount, amount), c.g + uniform(gen, -amount, amount), c.b + uniform(gen, -amount, amount)};
}

Color random_color(Generator& gen) { return {uniform(gen, 0, 255), uniform(gen, 0, 255), uniform(gen, 0, 255)}; }

Color scaled(const Color& c, double f) { return {c.r * f, c.g * f, c.b * f}; }

void put(RgbImage& im, int x, int y, const Color& c) {
  uint8_t* p = im.at(y, x);
  p[0] = static_cast<uint8_t>(std::clamp(std::lround(c.r), 0L, 255L));
  p[1] = static_cast<uint8_t>(std::clamp(std::lround(c.g), 0L, 255L));
  p[2] = static_cast<uint8_t>(std::clamp(std::lround(c.b), 0L, 255L));
}

// Calls f(x, y, u, v) for each pixel whose centre lies inside the ellipse centred at (cx, cy)
// with semi-axes (ax, ay); (u, v) are the centre's coordinates scaled to the unit disk.
template <class F>
void for_ellipse(const RgbImage& im, double cx, double cy, double ax, double ay, F&& f) {
  const int y0 = std::max(0, static_cast<int>(std::floor(cy - ay))), y1 = std::min(im.height - 1, static_cast<int>(std::ceil(cy + ay)));
  const int x0 = std::max(0, static_cast<int>(std::floor(cx - ax))), x1 = std::min(im.width - 1, static_cast<int>(std::ceil(cx + ax)));
  for (int y = y0; y <= y1; ++y)
    for (int x = x0; x <= x1; ++x) {
      const double u = (x + 0.5 - cx) / ax, v = (y + 0.5 - cy) / ay;
      if (u * u + v * v <= 1) f(x, y, u, v);
    }
}

void fill_ellipse(RgbImage& im, double cx, double cy, double ax, double ay, const Color& c) {
  for_ellipse(im, cx, cy, ax, ay, [&](int x, int y, double, double) { put(im, x, y, c); });
}

// A straight line `thickness` pixels wide from (xa, ya) to (xb, yb).
void draw_line(RgbImage& im, double xa, double ya, double xb, double yb, double thickness, const Color& c) {
  const int steps = static_cast<int>(std::ceil(std::hypot(xb - xa, yb - ya))) + 1;
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    fill_ellipse(im, xa + t * (xb - xa), ya + t * (yb - ya), thickness / 2 + 0.5, thickness / 2 + 0.5, c);
  }
}

void draw_background(RgbImage& im, Generator& gen) {
  const Color top = random_color(gen), bottom = random_color(gen);
  for (int y = 0; y < im.height; ++y) {
    const double t = im.height > 1 ? static_cast<double>(y) / (im.height - 1) : 0;
    const Color row{top.r + t * (bottom.r - top.r), top.g + t * (bottom.g - top.g), top.b + t * (bottom.b - top.b)};
    for (int x = 0; x < im.width; ++x) put(im, x, y, row);
  }
  // Distractors: rectangles and blobs, so "not a face" is more than a smooth gradient.
  const int shapes = static_cast<int>(uniform(gen, 2, 7));
  const double side = std::min(im.width, im.height);
  for (int s = 0; s < shapes; ++s) {
    const Color c = random_color(gen);
    const double cx = uniform(gen, 0, im.width), cy = uniform(gen, 0, im.height);
    const double rx = uniform(gen, 0.03, 0.2) * side, ry = uniform(gen, 0.03, 0.2) * side;
    if (gen.uniform() < 0.5) {
      fill_ellipse(im, cx, cy, rx, ry, c);
    } else {
      for (int y = std::max(0, static_cast<int>(cy - ry)); y < std::min(im.height, static_cast<int>(cy + ry)); ++y)
        for (int x = std::max(0, static_cast<int>(cx - rx)); x < std::min(im.width, static_cast<int>(cx + rx)); ++x)
          put(im, x, y, c);
    }
  }
  for (auto& p : im.pixels)
    p = static_cast<uint8_t>(std::clamp(std::lround(p + 6.0 * gen.normal()), 0L, 255L));
}

void draw_face(RgbImage& im, double cx, double cy, double ax, double ay, bool masked, Generator& gen) {
  static const Color kSkins[] = {{255, 224, 196}, {234, 192, 134}, {198, 134, 66}, {141, 85, 36}, {90, 56, 37}};
  static const Color kMasks[] = {{120, 180, 230}, {245, 245, 245}, {40, 40, 45}, {60, 110, 200}, {200, 80, 120}};
  const Color skin = jitter(kSkins[gen.next_u64() % 5], 12, gen);
  const Color hair = jitter(scaled(random_color(gen), 0.35), 10, gen);

  // Shading: a little darker towards the rim, so the face is not a flat disk.
  for_ellipse(im, cx, cy, ax, ay, [&](int x, int y, double u, double v) {
    put(im, x, y, scaled(skin, 1.0 - 0.18 * (u * u + v * v)));
  });
  for_ellipse(im, cx, cy, ax, ay, [&](int x, int y, double, double v) {
    if (v < -0.55) put(im, x, y, hair);
  });
  const double eye_y = cy - 0.18 * ay, eye_dx = 0.38 * ax;
  for (const double side : {-1.0, 1.0}) {
    fill_ellipse(im, cx + side * eye_dx, eye_y, 0.16 * ax, 0.08 * ay, {245, 245, 240});
    fill_ellipse(im, cx + side * eye_dx, eye_y, 0.07 * ax, 0.07 * ay, scaled(hair, 0.6));
  }
  fill_ellipse(im, cx, cy + 0.12 * ay, 0.09 * ax, 0.12 * ay, scaled(skin, 0.82));
  if (!masked) {
    fill_ellipse(im, cx, cy + 0.5 * ay, 0.3 * ax, 0.07 * ay, {170, 60, 60});
    return;
  }
  // The band: the face's lower part from just over the nose, with pleats and ear straps.
  const Color band = jitter(kMasks[gen.next_u64() % 5], 15, gen);
  const double top = 0.02 + uniform(gen, 0, 0.1);
  for_ellipse(im, cx, cy, ax * 1.02, ay * 1.02, [&](int x, int y, double u, double v) {
    if (v < top || v > 0.92) return;
    const bool pleat = std::fmod((v - top) * 6, 1.0) < 0.12 && std::abs(u) < 0.8;
    put(im, x, y, pleat ? scaled(band, 0.8) : band);
  });
  for (const double side : {-1.0, 1.0})
    draw_line(im, cx + side * 0.85 * ax, cy + (top + 0.1) * ay, cx + side * ax, cy - 0.1 * ay,
              std::max(1.0, 0.03 * ax), scaled(band, 0.9));
}

bool overlaps(const BoxAnnotation& a, const BoxAnnotation& b) {
  return a.x1 < b.x2 && b.x1 < a.x2 && a.y1 < b.y2 && b.y1 < a.y2;
}

}  // namespace

SyntheticImage draw_synthetic_image(const SyntheticOptions& o, Generator& gen) {
  MASKDET_CHECK(o.width >= 32 && o.height >= 32, "synthetic images must be at least 32x32, got ", o.width, "x",
                o.height);
  MASKDET_CHECK(o.min_faces >= 0 && o.max_faces >= o.min_faces, "synthetic faces: bad face count range ", o.min_faces,
                "..", o.max_faces);
  SyntheticImage out;
  out.image = RgbImage(o.height, o.width);
  draw_background(out.image, gen);
  const int faces = o.min_faces + static_cast<int>(gen.next_u64() % static_cast<uint64_t>(o.max_faces - o.min_faces + 1));
  const double shorter = std::min(o.width, o.height);
  for (int f = 0; f < faces; ++f) {
    // A few tries at a free spot; a face that finds none is left out.
    for (int attempt = 0; attempt < 30; ++attempt) {
      const double ax = 0.5 * uniform(gen, o.min_face_fraction, o.max_face_fraction) * shorter;
      const double ay = ax * uniform(gen, 1.15, 1.35);
      if (2 * ay >= o.height || 2 * ax >= o.width) continue;
      const double cx = uniform(gen, ax, o.width - ax), cy = uniform(gen, ay, o.height - ay);
      const bool masked = gen.uniform() < 0.5;
      const BoxAnnotation box{static_cast<float>(std::floor(cx - ax)), static_cast<float>(std::floor(cy - ay)),
                              static_cast<float>(std::ceil(cx + ax)), static_cast<float>(std::ceil(cy + ay)),
                              masked ? kMaskClass : kNoMaskClass, false};
      if (std::any_of(out.boxes.begin(), out.boxes.end(), [&](const auto& b) { return overlaps(b, box); })) continue;
      draw_face(out.image, cx, cy, ax, ay, masked, gen);
      out.boxes.push_back(box);
      break;
    }
  }
  return out;
}

SyntheticImage synthetic_image(const SyntheticOptions& options, uint64_t seed, size_t index) {
  Generator gen(derive_seed(seed, {index}));
  return draw_synthetic_image(options, gen);
}

Sample SyntheticSource::load(size_t index) const {
  MASKDET_CHECK(index < count_, "SyntheticSource: sample ", index, " of ", count_);
  SyntheticImage drawn = synthetic_image(options_, seed_, index);
  Sample s;
  s.original_size = drawn.image.size();
  s.image = std::move(drawn.image);
  s.boxes = std::move(drawn.boxes);
  s.image_path = describe(index);
  s.index = index;
  return s;
}

}  // namespace maskdet::data
