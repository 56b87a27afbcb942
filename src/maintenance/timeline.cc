#include "maintenance/timeline.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>

namespace tessera::maintenance {
namespace {

std::string Format(const char* fmt, double value) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, value);
  return buf;
}

// A "nice" axis maximum (1, 2 or 5 times a power of ten) at or above `value`.
double NiceCeiling(double value) {
  if (value <= 0) return 1;
  const double magnitude = std::pow(10.0, std::floor(std::log10(value)));
  for (double step : {1.0, 2.0, 5.0, 10.0}) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

std::string AxisLabel(double value) {
  if (value >= 1e6) return Format("%.3gM", value / 1e6);
  if (value >= 1e3) return Format("%.3gk", value / 1e3);
  return Format("%.3g", value);
}

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

constexpr const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};
constexpr double kWidth = 960, kLeft = 80, kRight = 30, kPanelHeight = 150, kPanelGap = 45;

struct Series {
  std::string name;
  std::function<double(const TimelinePoint&)> value;
  const char* dash;  // SVG stroke-dasharray, "" for solid
};

class SvgWriter {
 public:
  SvgWriter(const std::vector<Timeline>& timelines, double max_t)
      : timelines_(timelines), max_t_(NiceCeiling(max_t)) {}

  void Panel(double top, const std::string& title, const std::vector<Series>& series) {
    double max_y = 0;
    for (const Timeline& timeline : timelines_) {
      for (const TimelinePoint& point : timeline.points) {
        for (const Series& s : series) max_y = std::max(max_y, s.value(point));
      }
    }
    max_y = NiceCeiling(max_y);
    const double plot_w = kWidth - kLeft - kRight;
    auto x = [&](double t) { return kLeft + plot_w * t / max_t_; };
    auto y = [&](double v) { return top + kPanelHeight * (1 - std::clamp(v / max_y, 0.0, 1.0)); };
    out_ += "<text x=\"" + Format("%.1f", kLeft) + "\" y=\"" + Format("%.1f", top - 8) +
            "\" font-weight=\"bold\">" + Escape(title) + "</text>\n";
    for (int i = 0; i <= 4; ++i) {
      const double v = max_y * i / 4;
      out_ += "<line x1=\"" + Format("%.1f", kLeft) + "\" x2=\"" + Format("%.1f", kLeft + plot_w) +
              "\" y1=\"" + Format("%.1f", y(v)) + "\" y2=\"" + Format("%.1f", y(v)) +
              "\" stroke=\"#ddd\"/>\n";
      out_ += "<text x=\"" + Format("%.1f", kLeft - 6) + "\" y=\"" + Format("%.1f", y(v) + 4) +
              "\" text-anchor=\"end\">" + AxisLabel(v) + "</text>\n";
    }
    for (int i = 0; i <= 8; ++i) {
      const double t = max_t_ * i / 8;
      out_ += "<text x=\"" + Format("%.1f", x(t)) + "\" y=\"" +
              Format("%.1f", top + kPanelHeight + 14) + "\" text-anchor=\"middle\">" +
              AxisLabel(t) + "s</text>\n";
    }
    for (size_t k = 0; k < timelines_.size(); ++k) {
      const char* color = kColors[k % std::size(kColors)];
      const auto& points = timelines_[k].points;
      for (const Series& s : series) {
        std::string path;
        for (const TimelinePoint& point : points) {
          const double v = s.value(point);
          if (v < 0) continue;  // not measured in this window
          path += Format("%.1f", x(point.t_s)) + "," + Format("%.1f", y(v)) + " ";
        }
        if (path.empty()) continue;
        out_ += "<polyline fill=\"none\" stroke=\"" + std::string(color) +
                "\" stroke-width=\"1.5\" stroke-dasharray=\"" + s.dash + "\" points=\"" + path +
                "\"><title>" + Escape(timelines_[k].label + " " + s.name) + "</title></polyline>\n";
      }
      // Optimize runs: a tick below the panel wherever the run count went up.
      for (size_t i = 1; i < points.size(); ++i) {
        if (points[i].optimize_runs <= points[i - 1].optimize_runs) continue;
        const double tx = x(points[i].t_s);
        out_ += "<line x1=\"" + Format("%.1f", tx) + "\" x2=\"" + Format("%.1f", tx) + "\" y1=\"" +
                Format("%.1f", top + kPanelHeight - 6 - 5.0 * static_cast<double>(k)) + "\" y2=\"" +
                Format("%.1f", top + kPanelHeight - 5.0 * static_cast<double>(k)) + "\" stroke=\"" +
                color + "\" stroke-width=\"2\"/>\n";
      }
    }
    // Series key (dash styles) at the right of the title.
    double kx = kLeft + 260;
    for (const Series& s : series) {
      out_ += "<line x1=\"" + Format("%.1f", kx) + "\" x2=\"" + Format("%.1f", kx + 30) +
              "\" y1=\"" + Format("%.1f", top - 12) + "\" y2=\"" + Format("%.1f", top - 12) +
              "\" stroke=\"#444\" stroke-width=\"1.5\" stroke-dasharray=\"" + s.dash + "\"/>\n";
      out_ += "<text x=\"" + Format("%.1f", kx + 35) + "\" y=\"" + Format("%.1f", top - 8) + "\">" +
              Escape(s.name) + "</text>\n";
      kx += 60 + 7.0 * static_cast<double>(s.name.size());
    }
  }

  std::string out_;

 private:
  const std::vector<Timeline>& timelines_;
  const double max_t_;
};

}  // namespace

double Quantile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

std::string TimelinesToCsv(const std::vector<Timeline>& timelines) {
  std::string out =
      "mode,t_s,rows,fragments,unindexed_rows,index_segments,optimize_runs,last_optimize_s,"
      "queries,p50_ms,p95_ms,p99_ms,recall\n";
  for (const Timeline& timeline : timelines) {
    for (const TimelinePoint& p : timeline.points) {
      char line[512];
      std::snprintf(
          line, sizeof(line), "%s,%.3f,%lld,%lld,%lld,%lld,%lld,%.3f,%lld,%.3f,%.3f,%.3f,",
          timeline.label.c_str(), p.t_s, static_cast<long long>(p.rows),
          static_cast<long long>(p.fragments), static_cast<long long>(p.unindexed_rows),
          static_cast<long long>(p.index_segments), static_cast<long long>(p.optimize_runs),
          p.last_optimize_s, static_cast<long long>(p.queries), p.p50_ms, p.p95_ms, p.p99_ms);
      out += line;
      if (p.recall >= 0) out += Format("%.4f", p.recall);
      out += "\n";
    }
  }
  return out;
}

std::string TimelinesToSvg(const std::vector<Timeline>& timelines, const std::string& title) {
  double max_t = 0;
  bool any_recall = false;
  for (const Timeline& timeline : timelines) {
    for (const TimelinePoint& point : timeline.points) {
      max_t = std::max(max_t, point.t_s);
      any_recall = any_recall || point.recall >= 0;
    }
  }
  const int panels = any_recall ? 4 : 3;
  const double legend_h = 40 + 18.0 * static_cast<double>(timelines.size());
  const double height = legend_h + panels * (kPanelHeight + kPanelGap) + 10;
  SvgWriter svg(timelines, max_t);
  std::string head = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + Format("%.0f", kWidth) +
                     "\" height=\"" + Format("%.0f", height) +
                     "\" font-family=\"sans-serif\" font-size=\"11\">\n"
                     "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
                     "<text x=\"" +
                     Format("%.1f", kLeft) + "\" y=\"22\" font-size=\"15\" font-weight=\"bold\">" +
                     Escape(title) + "</text>\n";
  for (size_t k = 0; k < timelines.size(); ++k) {
    const double ly = 40 + 18.0 * static_cast<double>(k);
    head += "<rect x=\"" + Format("%.1f", kLeft) + "\" y=\"" + Format("%.1f", ly - 9) +
            "\" width=\"14\" height=\"10\" fill=\"" + kColors[k % std::size(kColors)] + "\"/>\n";
    head += "<text x=\"" + Format("%.1f", kLeft + 20) + "\" y=\"" + Format("%.1f", ly) + "\">" +
            Escape(timelines[k].label) + "</text>\n";
  }
  head += "<text x=\"" + Format("%.1f", kLeft + 300) +
          "\" y=\"40\" fill=\"#555\">ticks at the bottom of each panel: optimize runs "
          "finished</text>\n";
  double top = legend_h + kPanelGap - 10;
  svg.Panel(
      top, "rows",
      {{"rows", [](const TimelinePoint& p) { return static_cast<double>(p.rows); }, ""},
       {"unindexed rows",
        [](const TimelinePoint& p) { return static_cast<double>(p.unindexed_rows); }, "6,3"}});
  top += kPanelHeight + kPanelGap;
  svg.Panel(
      top, "fragments",
      {{"fragments", [](const TimelinePoint& p) { return static_cast<double>(p.fragments); }, ""}});
  top += kPanelHeight + kPanelGap;
  svg.Panel(top, "query latency (ms)",
            {{"p50", [](const TimelinePoint& p) { return p.queries > 0 ? p.p50_ms : -1; }, "2,3"},
             {"p95", [](const TimelinePoint& p) { return p.queries > 0 ? p.p95_ms : -1; }, "6,3"},
             {"p99", [](const TimelinePoint& p) { return p.queries > 0 ? p.p99_ms : -1; }, ""}});
  if (any_recall) {
    top += kPanelHeight + kPanelGap;
    svg.Panel(top, "recall@10 vs exact search",
              {{"recall", [](const TimelinePoint& p) { return p.recall; }, ""}});
  }
  return head + svg.out_ + "</svg>\n";
}

Status WriteTextFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
  out.close();
  if (!out) return Status::IOError("cannot write '", path, "'");
  return Status::OK();
}

}  // namespace tessera::maintenance
