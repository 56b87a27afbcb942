// An HNSW graph (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search
// using Hierarchical Navigable Small World graphs"): the topology only. Vectors live in a
// space (hnsw_space.h) that the caller passes to Insert() and Search(), so the same graph can be
// built over exact floats and searched over SQ8 codes.
//
// Layout: level 0 is one array of fixed-size link blocks [count, id * (2 * m)] per node; a node
// on level L > 0 also owns L blocks [count, id * m] in one shared array. Node ids are 0..n-1.
//
// Thread safety: Insert() is single-threaded; Build() may insert with several threads (it locks
// internally, as hnswlib does). After the build the graph is immutable and any number of threads
// may Search() at once, each with its own HnswScratch.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "index/hnsw/hnsw_space.h"
#include "tessera/result.h"

namespace tessera::index {

struct HnswParams {
  int32_t m = 16;                 // links per node on levels >= 1; 2 * m on level 0. In [2, 128]
  int32_t ef_construction = 150;  // beam width while inserting
  uint64_t seed = 100;            // seeds the random levels
};

// A search result or candidate: a node and its distance to the query.
struct HnswCandidate {
  float distance;
  uint32_t node;
};

// Accept-or-reject callback for prefilter search: rejected nodes are traversed but never
// returned. A null `fn` accepts everything.
struct NodeFilter {
  bool (*fn)(const void* context, uint32_t node) = nullptr;
  const void* context = nullptr;
  bool Accepts(uint32_t node) const { return fn == nullptr || fn(context, node); }
};

// Reusable per-thread search state: a generation-stamped visited array and the two heaps, so
// that a search allocates nothing once the scratch has grown to the graph's size.
class HnswScratch {
 public:
  // Start a new search over a graph of `num_nodes` nodes.
  void Reset(uint32_t num_nodes);
  bool Visit(uint32_t node) {  // return true if `node` was not yet visited
    if (visited_[node] == stamp_) return false;
    visited_[node] = stamp_;
    ++num_visited_;
    return true;
  }
  // Nodes visited since Reset(): the last search saw every node if this is the graph's size.
  uint32_t num_visited() const { return num_visited_; }
  void PrefetchVisited(uint32_t node) const { __builtin_prefetch(visited_.data() + node); }

  std::vector<HnswCandidate> candidates;  // min-heap on distance
  std::vector<HnswCandidate> results;     // max-heap on distance
  std::vector<HnswCandidate> selected;    // neighbor selection
  std::vector<HnswCandidate> pruned;      // neighbor selection
  uint32_t fresh[256];                    // unvisited links of the node being expanded

 private:
  std::vector<uint16_t> visited_;
  uint16_t stamp_ = 0;
  uint32_t num_visited_ = 0;
};

class HnswGraph {
 public:
  static constexpr int kMaxLevel = 31;

  // An empty graph (no nodes).
  HnswGraph() = default;

  // Create a graph of `num_nodes` nodes without links; node levels are drawn from params.seed.
  // REQUIRES: 2 <= params.m <= 128, params.ef_construction >= 1.
  HnswGraph(const HnswParams& params, uint32_t num_nodes);

  // Rebuild a graph from the arrays of a serialized one, validating every id and count.
  // Errors: kCorruption if the arrays are inconsistent.
  static Result<HnswGraph> FromArrays(const HnswParams& params, uint32_t entry_point,
                                      std::vector<uint8_t> levels, std::vector<uint32_t> level0,
                                      std::vector<uint32_t> upper);

  // Insert `node`, linking it using exact distances in `space`.
  // REQUIRES: nodes are inserted in the order 0, 1, 2, ...; space covers them.
  void Insert(uint32_t node, const FloatSpace& space, HnswScratch* scratch);
  // Insert all nodes 0..num_nodes()-1 with `num_threads` threads (hnswlib's scheme: a lock per
  // node guards its links while a thread reads or rewrites them, a global lock the entry
  // point). With one thread the graph is a deterministic function of the inputs; with more it
  // depends on the interleaving, with the same quality.
  void Build(const FloatSpace& space, int num_threads = 1);

  // Write to *out (cleared first) up to `ef` nodes accepted by `filter` nearest to the space's
  // query, ascending by distance. Rejected nodes are traversed, so a selective filter still
  // yields min(ef, accepted reachable nodes) results. Space is FloatSpace or Sq8Space.
  template <class Space>
  void Search(const Space& space, int32_t ef, NodeFilter filter, HnswScratch* scratch,
              std::vector<HnswCandidate>* out) const;

  const HnswParams& params() const { return params_; }
  uint32_t num_nodes() const { return static_cast<uint32_t>(levels_.size()); }
  uint32_t entry_point() const { return entry_point_; }
  int max_level() const { return max_level_; }
  // Links of `node` on `level` (count + ids). REQUIRES: level <= level of node.
  std::span<const uint32_t> Links(uint32_t node, int level) const;

  // The raw arrays (see the layout above), for serialization.
  const std::vector<uint8_t>& levels() const { return levels_; }
  const std::vector<uint32_t>& level0() const { return level0_; }
  const std::vector<uint32_t>& upper() const { return upper_; }
  size_t memory_bytes() const;

 private:
  // Set the strides and upper_offsets_ from levels_; return the length upper_ must have.
  uint64_t ComputeOffsets();
  uint32_t* Block(uint32_t node, int level) {
    return level == 0 ? level0_.data() + static_cast<size_t>(node) * level0_stride_
                      : upper_.data() + upper_offsets_[node] +
                            static_cast<size_t>(level - 1) * upper_stride_;
  }
  const uint32_t* Block(uint32_t node, int level) const {
    return const_cast<HnswGraph*>(this)->Block(node, level);
  }
  int MaxLinks(int level) const { return level == 0 ? 2 * params_.m : params_.m; }

  // Locks of a concurrent Build(); null otherwise. Striped: a node's links are guarded by
  // node_locks[node % kLockStripes]; a thread never holds two of them at once.
  static constexpr uint32_t kLockStripes = 1 << 14;
  struct BuildLocks {
    std::mutex global;  // entry_point_ and max_level_
    std::mutex node_locks[kLockStripes];
  };

  // Beam search on one level from `entry`; leaves the results max-heap in scratch->results.
  // kLocked: the graph is being built concurrently, so each node's links are copied under its
  // lock before they are followed.
  template <bool kLocked, class Space>
  void SearchLevel(const Space& space, uint32_t entry, float entry_distance, int32_t ef, int level,
                   NodeFilter filter, HnswScratch* scratch) const;
  // Greedy descent from `start` on `start_level` down to level `target_level` + 1.
  template <bool kLocked, class Space>
  uint32_t Descend(const Space& space, uint32_t start, int start_level, int target_level,
                   float* distance) const;
  // Copy the links of `node` on `level` into `out` (>= 2 * m + 1 entries); return the count.
  template <bool kLocked>
  uint32_t CopyLinks(uint32_t node, int level, uint32_t* out) const;
  // Insert() under locks (concurrent Build()).
  template <bool kLocked>
  void InsertImpl(uint32_t node, const FloatSpace& space, HnswScratch* scratch);
  // Keep at most `max_links` of `candidates` (ascending) by the paper's Algorithm 4 heuristic.
  void SelectNeighbors(const FloatSpace& space, std::vector<HnswCandidate>* candidates,
                       int max_links, HnswScratch* scratch) const;

  HnswParams params_;
  std::vector<uint8_t> levels_;
  std::vector<uint32_t> level0_;
  std::vector<uint32_t> upper_;
  std::vector<uint64_t> upper_offsets_;  // into upper_, per node; derived from levels_
  size_t level0_stride_ = 0;
  size_t upper_stride_ = 0;
  uint32_t entry_point_ = 0;
  int max_level_ = -1;                 // -1 while empty
  std::unique_ptr<BuildLocks> locks_;  // only during a concurrent Build()
};

}  // namespace tessera::index
