#include "properties/fuzz_case.hpp"

#include "io/model_io.hpp"
#include "io/prompt_io.hpp"

#include <ostream>

namespace iclcert::properties {

Json case_to_json(const FuzzCase& c) {
  return {{"prompt", prompt_to_json(c.prompt)},
          {"model", model_to_json(c.model)},
          {"permutation", {{"features", c.g.features}, {"labels", c.g.labels}, {"tokens", c.g.tokens}}}};
}

namespace {

Permutation read_permutation(const JsonReader& r, int n) {
  const std::size_t size = r.expect_array_of_size(static_cast<std::size_t>(n));
  Permutation p;
  for (std::size_t i = 0; i < size; ++i) p.push_back(static_cast<int>(r.element(i).integer(0, n - 1)));
  if (!is_permutation(p, n)) r.fail("a permutation of 0.." + std::to_string(n - 1));
  return p;
}

}  // namespace

FuzzCase case_from_json(const Json& json, const std::string& file) {
  const JsonReader root(file, json, "case");
  root.expect_object({"prompt", "model", "permutation"});
  FuzzCase c;
  const auto prompts = parse_prompts(root.field("prompt").value(), file);
  if (prompts.size() != 1) root.field("prompt").fail("a single prompt");
  c.prompt = prompts[0];
  c.model = parse_model(root.field("model").value(), file);
  const JsonReader perm = root.field("permutation");
  perm.expect_object({"features", "labels", "tokens"});
  c.g.features = read_permutation(perm.field("features"), c.prompt.d);
  c.g.labels = read_permutation(perm.field("labels"), c.prompt.C);
  c.g.tokens = read_permutation(perm.field("tokens"), c.prompt.N);
  return c;
}

void showValue(const FuzzCase& c, std::ostream& os) { os << case_to_json(c).dump(); }

Json counterexample_to_json(const Counterexample& ce) {
  Json j = {{"format", 1}, {"property", ce.property}, {"arith", ce.arith}, {"seed", ce.seed}, {"detail", ce.detail}};
  if (ce.tolerance > 0) j["tolerance"] = ce.tolerance;
  j["case"] = case_to_json(ce.c);
  return j;
}

Counterexample read_counterexample_file(const std::string& path) {
  const Json json = load_json_file(path);
  const JsonReader root(path, json);
  root.expect_object({"format", "property", "arith", "seed", "detail", "tolerance", "case"});
  expect_format_1(root);
  Counterexample ce;
  ce.property = root.field("property").string();
  ce.arith = root.field("arith").string();
  if (root.has("seed")) {
    const Json& s = root.field("seed").value();
    if (!s.is_number_unsigned() && !s.is_number_integer()) root.field("seed").fail("a non-negative integer");
    ce.seed = s.get<std::uint64_t>();
  }
  if (root.has("detail")) ce.detail = root.field("detail").string();
  if (root.has("tolerance")) ce.tolerance = nearest_double(root.field("tolerance").number());
  ce.c = case_from_json(root.field("case").value(), path);
  return ce;
}

}  // namespace iclcert::properties
