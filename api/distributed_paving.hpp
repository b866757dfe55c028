// R1 --map under mpiexec: the paving's sub-boxes (claims/paving.hpp, the seam
// BoxEvaluator) evaluated across the ranks. Every rank runs the same paving and
// gets every batch's results (the queue's next step depends on them); each result
// is computed by claims::evaluate_sub_box on one rank, on the calling thread (so
// at the check's working precision), and travels as CBOR (exact).
#pragma once

#include "claims/robustness.hpp"
#include "api/distribute.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace iclcert::api {

// An empty evaluator (check_robustness then uses its serial one) on one process.
template <RigorousScalar T>
claims::BoxEvaluator distributed_box_evaluator(const Prompt& p, const Model& m, const claims::RobustnessOptions& o) {
  if (ranks() == 1) return {};
  return [serial = claims::serial_evaluator<T>(p, m, o)](const std::vector<claims::SubBox>& batch) {
    const std::vector<std::string> packed = evaluate_indexed(
        static_cast<long>(batch.size()), 1,
        [&](long i) {
          const claims::BoxResult r = serial({batch[static_cast<std::size_t>(i)]}).at(0);
          const std::vector<std::uint8_t> bytes =
              Json::to_cbor(Json{{"v", static_cast<int>(r.verdict)}, {"pt", r.refuting_point}, {"s", r.split}, {"d", r.distance}});
          return std::string(bytes.begin(), bytes.end());
        },
        nullptr, Deliver::to_every_rank);
    std::vector<claims::BoxResult> out(packed.size());
    for (std::size_t i = 0; i < packed.size(); ++i) {
      const Json j = Json::from_cbor(packed[i]);
      out[i].verdict = static_cast<claims::Verdict>(j["v"].get<int>());
      out[i].refuting_point = j["pt"];
      out[i].split = j["s"].get<int>();  // the paving's hints, as the serial evaluator's (exact in CBOR)
      out[i].distance = j["d"].get<double>();
    }
    return out;
  };
}

}  // namespace iclcert::api

// Transitional (issue 24): the commands of cli/ still name these unqualified.
namespace iclcert::cli {
using namespace iclcert::api;
}
