// An HNSW graph (Malkov & Yashunin, "Efficient and robust approximate nearest neighbor search
// using Hierarchical Navigable Small World graphs"): the topology only. Vectors live in a
// space (hnsw_space.h) that the caller passes to Insert() and Search(), so the same graph can be
// built over exact floats and searched over SQ8 codes.
//
// Layout: level 0 is one array of fixed-size link blocks [count, id * (2 * m)] per node; a node
// on level L > 0 also owns L blocks [count, id * m] in one shared array. Node ids are 0..n-1.
// Links are 32-bit while a graph is built; a graph of at most 65,536 nodes then stores them as
// 16-bit ids ("narrow"): level 0 is then 66 bytes per node instead of 132 at m = 16, which
// halves the graph's memory and the bytes a search reads. IVF_HNSW_SQ keeps its partitions
// below that size for this reason.
//
// Thread safety: Insert() is single-threaded; Build() may insert with several threads (it locks
// internally, as hnswlib does). After the build the graph is immutable and any number of threads
// may Search() at once, each with its own HnswScratch.
#pragma once

#include <bit>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <type_traits>
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
  // REQUIRES: nodes are inserted in the order 0, 1, 2, ...; space covers them; the graph was
  // not built by Build() or FromArrays() (those may narrow it).
  void Insert(uint32_t node, const FloatSpace& space, HnswScratch* scratch);
  // Insert all nodes 0..num_nodes()-1 with `num_threads` threads (hnswlib's scheme: a lock per
  // node guards its links while a thread reads or rewrites them, a global lock the entry
  // point). With one thread the graph is a deterministic function of the inputs; with more it
  // depends on the interleaving, with the same quality. Narrows the links afterwards when the
  // graph has at most kMaxNarrowNodes nodes.
  void Build(const FloatSpace& space, int num_threads = 1);

  // Graphs of at most this many nodes store 16-bit links once built.
  static constexpr uint32_t kMaxNarrowNodes = 1u << 16;
  bool narrow() const { return narrow_; }

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
  // The links of `node` on `level`. REQUIRES: level <= level of node.
  std::vector<uint32_t> Links(uint32_t node, int level) const;

  // The raw arrays (see the layout above) with 32-bit ids whatever the width in memory, for
  // serialization: the file format does not depend on the graph's size.
  const std::vector<uint8_t>& levels() const { return levels_; }
  std::vector<uint32_t> level0() const;
  std::vector<uint32_t> upper() const;
  size_t memory_bytes() const;

 private:
  // Set the strides and upper_offsets_ from levels_; return the length upper_ must have
  // (> UINT32_MAX: more links than offsets can address).
  uint64_t ComputeOffsets();
  // Move the links into 16-bit arrays if there are at most kMaxNarrowNodes nodes.
  void Narrow();
  // The link block of `node` on `level` in the 32-bit (building) arrays.
  uint32_t* Block(uint32_t node, int level) {
    return level == 0
               ? level0_.data() + static_cast<size_t>(node) * level0_stride_
               : upper_.data() + UpperOffset(node) + static_cast<size_t>(level - 1) * upper_stride_;
  }
  // Where the upper-level blocks of `node` (level >= 1) start in upper_.
  size_t UpperOffset(uint32_t node) const {
    const uint32_t word = node >> 6;
    const uint64_t below = upper_bits_[word] & ((uint64_t{1} << (node & 63)) - 1);
    return upper_offsets_[upper_rank_[word] + static_cast<uint32_t>(std::popcount(below))];
  }
  // The link block in the arrays of width Link (uint32_t: wide, uint16_t: narrow).
  template <class Link>
  const Link* BlockOf(uint32_t node, int level) const {
    const size_t offset = level == 0
                              ? static_cast<size_t>(node) * level0_stride_
                              : UpperOffset(node) + static_cast<size_t>(level - 1) * upper_stride_;
    if constexpr (std::is_same_v<Link, uint16_t>) {
      return (level == 0 ? level0_narrow_.data() : upper_narrow_.data()) + offset;
    } else {
      return (level == 0 ? level0_.data() : upper_.data()) + offset;
    }
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
  // Link: the width of the arrays searched (uint16_t only when narrow, never kLocked).
  template <bool kLocked, class Link, class Space>
  void SearchLevel(const Space& space, uint32_t entry, float entry_distance, int32_t ef, int level,
                   NodeFilter filter, HnswScratch* scratch) const;
  // Greedy descent from `start` on `start_level` down to level `target_level` + 1.
  template <bool kLocked, class Link, class Space>
  uint32_t Descend(const Space& space, uint32_t start, int start_level, int target_level,
                   float* distance) const;
  // Copy the links of `node` on `level` into `out` (>= 2 * m + 1 entries); return the count.
  template <bool kLocked, class Link>
  uint32_t CopyLinks(uint32_t node, int level, uint32_t* out) const;
  template <class Link, class Space>
  void SearchWith(const Space& space, int32_t ef, NodeFilter filter, HnswScratch* scratch,
                  std::vector<HnswCandidate>* out) const;
  // Insert() under locks (concurrent Build()).
  template <bool kLocked>
  void InsertImpl(uint32_t node, const FloatSpace& space, HnswScratch* scratch);
  // Keep at most `max_links` of `candidates` (ascending) by the paper's Algorithm 4 heuristic.
  void SelectNeighbors(const FloatSpace& space, std::vector<HnswCandidate>* candidates,
                       int max_links, HnswScratch* scratch) const;

  HnswParams params_;
  std::vector<uint8_t> levels_;
  std::vector<uint32_t> level0_;  // wide links; empty when narrow_
  std::vector<uint32_t> upper_;
  std::vector<uint16_t> level0_narrow_;  // narrow links; empty unless narrow_
  std::vector<uint16_t> upper_narrow_;
  bool narrow_ = false;
  // Derived from levels_: only nodes above level 0 (about 1 in m) have upper blocks, so offsets
  // are kept for those alone and found by rank: upper_bits_ marks them (a bit per node),
  // upper_rank_ counts them before each 64-node word (under half a byte per node in all).
  std::vector<uint64_t> upper_bits_;
  std::vector<uint32_t> upper_rank_;
  std::vector<uint32_t> upper_offsets_;  // into upper_, per node above level 0, in node order
  size_t level0_stride_ = 0;
  size_t upper_stride_ = 0;
  uint32_t entry_point_ = 0;
  int max_level_ = -1;                 // -1 while empty
  std::unique_ptr<BuildLocks> locks_;  // only during a concurrent Build()
};

}  // namespace tessera::index
