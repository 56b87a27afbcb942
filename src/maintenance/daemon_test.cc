#include "maintenance/daemon.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "io/file_system.h"

namespace tessera::maintenance {
namespace {

RecordBatch MakeBatch(int64_t first_id, int64_t n) {
  RecordBatchBuilder builder(Schema::Parse("id:int64,vector:vector[4]").value());
  for (int64_t id = first_id; id < first_id + n; ++id) {
    EXPECT_TRUE(builder.AppendRow({Value(id), Value(std::vector<float>{float(id), 1, 2, 3})}).ok());
  }
  return builder.Finish().value();
}

TEST(CadenceModelTest, DueWhenPredictedTailCostReachesTarget) {
  DaemonOptions options;
  options.target_tail_ms = 10;
  options.min_interval_seconds = 1;
  options.max_interval_seconds = 1000;
  CadenceModel model;
  model.cost_ms_per_unindexed_row = 0.001;  // 10 ms at 10,000 rows
  model.tail_growth_rows_per_s = 100;
  EXPECT_DOUBLE_EQ(model.SecondsUntilDue(5000, options), 50);  // 5,000 rows to go at 100/s
  EXPECT_DOUBLE_EQ(model.SecondsUntilDue(20000, options), 1);  // overdue: clamped to min
  model.tail_growth_rows_per_s = 0;
  EXPECT_DOUBLE_EQ(model.SecondsUntilDue(5000, options), 1000);  // not growing: max interval
  model.tail_growth_rows_per_s = 100;
  model.last_optimize_seconds = 30;  // duty cycle 0.5: wait at least as long as it ran
  EXPECT_DOUBLE_EQ(model.SecondsUntilDue(20000, options), 30);
  model.cost_ms_per_unindexed_row = 0;  // unknown cost: max interval
  model.last_optimize_seconds = 0;
  EXPECT_DOUBLE_EQ(model.SecondsUntilDue(20000, options), 1000);
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs_ = io::NewMemoryFileSystem();
    options_.file_system = fs_.get();
    table_ = Table::Create("/t", Schema::Parse("id:int64,vector:vector[4]").value(),
                           CreateMode::kCreate, options_)
                 .value();
  }
  std::unique_ptr<io::FileSystem> fs_;
  TableOptions options_;
  std::unique_ptr<Table> table_;
};

TEST_F(DaemonTest, LeaseKeepsTwoDaemonsFromDuplicatingWorkAndExpires) {
  DaemonOptions a_options;
  a_options.holder = "a";
  a_options.lease_seconds = 3600;
  DaemonOptions b_options;
  b_options.holder = "b";
  MaintenanceDaemon a(table_.get(), a_options);
  MaintenanceDaemon b(table_.get(), b_options);
  EXPECT_TRUE(a.AcquireLease().value());
  EXPECT_FALSE(b.AcquireLease().value());
  EXPECT_TRUE(a.AcquireLease().value());  // renewal
  ASSERT_TRUE(a.ReleaseLease().ok());
  EXPECT_TRUE(b.AcquireLease().value());
  // An expired lease is taken over.
  DaemonOptions c_options;
  c_options.holder = "c";
  c_options.lease_seconds = -1;  // expires immediately
  MaintenanceDaemon c(table_.get(), c_options);
  ASSERT_TRUE(b.ReleaseLease().ok());
  EXPECT_TRUE(c.AcquireLease().value());
  EXPECT_TRUE(a.AcquireLease().value());
}

// Maintainers racing to take over one expired lease: exactly one wins, every round. (With a
// delete-then-create takeover two could win: the second deleted the first's fresh lease.)
TEST_F(DaemonTest, RacingTakeoversOfAnExpiredLeaseHaveExactlyOneWinner) {
  constexpr int kRacers = 6;
  DaemonOptions expiring;
  expiring.holder = "expiring";
  expiring.lease_seconds = -1;  // expired as soon as taken
  MaintenanceDaemon expired(table_.get(), expiring);
  std::vector<std::unique_ptr<MaintenanceDaemon>> racers;
  for (int r = 0; r < kRacers; ++r) {
    DaemonOptions options;
    options.holder = "racer" + std::to_string(r);
    options.lease_seconds = 3600;
    racers.push_back(std::make_unique<MaintenanceDaemon>(table_.get(), options));
  }
  for (int round = 0; round < 30; ++round) {
    ASSERT_TRUE(expired.AcquireLease().value()) << "round " << round;
    std::atomic<int> ready{0}, wins{0}, winner{-1};
    std::vector<std::thread> threads;
    for (int r = 0; r < kRacers; ++r) {
      threads.emplace_back([&, r] {
        ++ready;
        while (ready.load() < kRacers) {
        }
        auto won = racers[r]->AcquireLease();
        ASSERT_TRUE(won.ok()) << won.status();
        if (*won) {
          ++wins;
          winner = r;
        }
      });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_EQ(wins.load(), 1) << "round " << round;
    ASSERT_GE(winner.load(), 0);
    // The winner holds it: nobody else gets it, the winner renews it, then releases it.
    for (int r = 0; r < kRacers; ++r) {
      EXPECT_EQ(racers[r]->AcquireLease().value(), r == winner.load()) << "round " << round;
    }
    ASSERT_TRUE(racers[winner.load()]->ReleaseLease().ok());
  }
  // Old generations do not pile up.
  auto entries = fs_->ListDir("/t/_leases").value();
  EXPECT_LE(entries.size(), 2u);
}

TEST_F(DaemonTest, RunsOptimizeAndReportsEachRun) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(table_->Add(MakeBatch(i * 10, 10)).ok());
  IndexConfig config;
  config.type = "IVF_FLAT";
  config.num_partitions = 2;
  ASSERT_TRUE(table_->CreateIndex("vector", config).ok());
  ASSERT_TRUE(table_->Add(MakeBatch(100, 10)).ok());
  DaemonOptions options;
  options.interval_seconds = 0;
  options.max_runs = 2;
  options.optimize.compaction.target_rows_per_fragment = 1000;
  std::vector<DaemonEvent> events;
  MaintenanceDaemon daemon(table_.get(), options);
  ASSERT_TRUE(daemon.Run([&](const DaemonEvent& e) { events.push_back(e); }).ok());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_TRUE(events[0].result.ok());
  EXPECT_EQ(events[0].fragments_before, 11);
  EXPECT_EQ(events[0].unindexed_rows_before, 10);
  EXPECT_EQ(events[0].result.compaction.fragments_removed, 11);
  EXPECT_EQ(events[0].result.rows_indexed, 10);
  EXPECT_EQ(events[1].result.compaction.fragments_removed, 0);  // nothing left to do
  EXPECT_GT(daemon.model().cost_ms_per_unindexed_row, 0);
  EXPECT_EQ(table_->Stats().value().num_fragments, 1);
  EXPECT_EQ(table_->CountRows().value(), 110);
}

}  // namespace
}  // namespace tessera::maintenance
