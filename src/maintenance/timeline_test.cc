#include "maintenance/timeline.h"

#include <gtest/gtest.h>

#include <string>

namespace tessera::maintenance {
namespace {

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

Timeline Make(const std::string& label, int points, bool with_recall) {
  Timeline timeline{label, {}};
  for (int i = 0; i < points; ++i) {
    TimelinePoint p;
    p.t_s = i * 0.5;
    p.rows = 1000 * i;
    p.fragments = i + 1;
    p.unindexed_rows = 1000 * (i % 3);
    p.optimize_runs = i / 3;
    p.queries = i == 0 ? 0 : 10;
    p.p50_ms = 1 + i;
    p.p95_ms = 2 + i;
    p.p99_ms = 3 + i;
    p.recall = with_recall ? 0.9 : -1;
    timeline.points.push_back(p);
  }
  return timeline;
}

TEST(TimelineTest, QuantileIsNearestRank) {
  EXPECT_EQ(Quantile({}, 0.5), 0);
  EXPECT_EQ(Quantile({3, 1, 2}, 0.5), 2);
  EXPECT_EQ(Quantile({1, 2, 3, 4}, 0.99), 4);
  EXPECT_EQ(Quantile({1, 2, 3, 4}, 0), 1);
  std::vector<double> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(i);
  EXPECT_EQ(Quantile(hundred, 0.95), 95);
}

TEST(TimelineTest, CsvHasAHeaderAndOneLinePerPoint) {
  const std::string csv = TimelinesToCsv({Make("none", 3, false), Make("adaptive", 2, true)});
  EXPECT_TRUE(csv.starts_with("mode,t_s,rows,fragments,unindexed_rows,")) << csv;
  EXPECT_EQ(Count(csv, "\n"), 1u + 3 + 2);
  EXPECT_NE(csv.find("\nnone,0.500,1000,2,1000,0,0,0.000,10,2.000,3.000,4.000,\n"),
            std::string::npos)
      << csv;
  EXPECT_NE(csv.find("\nadaptive,0.500,1000,2,1000,0,0,0.000,10,2.000,3.000,4.000,0.9000\n"),
            std::string::npos)
      << csv;
}

TEST(TimelineTest, SvgDrawsEverySeriesOfEveryTimeline) {
  const std::string svg =
      TimelinesToSvg({Make("none <raw>", 7, false), Make("adaptive", 7, true)}, "a & b");
  EXPECT_TRUE(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  EXPECT_TRUE(svg.ends_with("</svg>\n"));
  // Per timeline: rows, unindexed, fragments, p50, p95, p99; recall only where measured.
  EXPECT_EQ(Count(svg, "<polyline"), 6u + 7u);
  EXPECT_NE(svg.find("none &lt;raw&gt;"), std::string::npos);
  EXPECT_NE(svg.find("a &amp; b"), std::string::npos);
  EXPECT_NE(svg.find("recall@10"), std::string::npos);
  EXPECT_EQ(Count(svg, "<"), Count(svg, ">"));  // nothing unescaped leaked into text
}

TEST(TimelineTest, SvgWithoutRecallHasThreePanels) {
  const std::string svg = TimelinesToSvg({Make("none", 4, false)}, "t");
  EXPECT_EQ(svg.find("recall@10"), std::string::npos);
  EXPECT_EQ(Count(svg, "<polyline"), 6u);
}

TEST(TimelineTest, WriteTextFileReportsThePath) {
  const Status status = WriteTextFile("/nonexistent-dir/x.svg", "x");
  EXPECT_TRUE(status.IsIOError());
  EXPECT_NE(status.ToString().find("/nonexistent-dir/x.svg"), std::string::npos);
}

}  // namespace
}  // namespace tessera::maintenance
