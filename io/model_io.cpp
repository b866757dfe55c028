#include "io/model_io.hpp"

#include "io/input_file.hpp"
#include "io/limits.hpp"

#include <fstream>
#include <string_view>

namespace iclcert {
namespace {

ReducedCoefficients<Rational> read_coefficients(const JsonReader& r, bool allow_probe) {
  if (allow_probe) r.expect_object({"beta", "gamma", "alpha", "alpha_label", "probe"});
  else r.expect_object({"beta", "gamma", "alpha", "alpha_label"});
  return {r.field("beta").number(), r.field("gamma").number(), r.field("alpha").number(),
          r.field("alpha_label").number()};
}

Theta<Rational> read_theta(const JsonReader& r) {
  r.expect_array_of_size(6);
  Theta<Rational> t;
  for (std::size_t k = 0; k < 6; ++k) t[k] = r.element(k).number();
  return t;
}

Matrix<Rational> read_square(const JsonReader& r) {
  std::size_t D = r.expect_array(2, kMaxFeatures + kMaxClasses);
  Matrix<Rational> m(D, D);
  for (std::size_t i = 0; i < D; ++i) {
    JsonReader row = r.element(i);
    row.expect_array_of_size(D);
    for (std::size_t k = 0; k < D; ++k) m(i, k) = row.element(k).number();
  }
  return m;
}

Layer<Rational> read_layer(const JsonReader& r) {
  if (!r.value().is_object()) r.fail("expected a layer object");
  if (!r.has("heads")) {
    ReducedLayer<Rational> l{read_coefficients(r, true), std::nullopt};
    if (r.has("probe")) l.probe = read_coefficients(r.field("probe"), false);
    return l;
  }
  r.expect_object({"heads"});
  JsonReader heads = r.field("heads");
  std::size_t H = heads.expect_array(1, kMaxHeads);
  const bool dense = heads.element(0).has("score_matrix");
  FullLayer<Rational> full;
  DenseLayer<Rational> den;
  for (std::size_t h = 0; h < H; ++h) {
    JsonReader head = heads.element(h);
    if (dense) {
      head.expect_object({"score_matrix", "value_matrix"});
      DenseHead<Rational> dh{read_square(head.field("score_matrix")), read_square(head.field("value_matrix"))};
      if (dh.value.rows() != dh.score.rows())
        head.field("value_matrix").fail("expected the same size as score_matrix (" +
                                        std::to_string(dh.score.rows()) + ")");
      if (!den.heads.empty() && dh.score.rows() != den.heads[0].score.rows())
        head.field("score_matrix").fail("expected the same size as in head 0");
      den.heads.push_back(std::move(dh));
    } else {
      head.expect_object({"score", "value"});
      full.heads.push_back({read_theta(head.field("score")), read_theta(head.field("value"))});
    }
  }
  if (dense) return den;
  return full;
}

Json coefficients_json(const ReducedCoefficients<Rational>& c) {
  return {{"beta", to_string(c.beta)}, {"gamma", to_string(c.gamma)}, {"alpha", to_string(c.alpha)},
          {"alpha_label", to_string(c.alpha_label)}};
}

Json matrix_json(const Matrix<Rational>& m) {
  Json rows = Json::array();
  for (std::size_t i = 0; i < m.rows(); ++i) {
    Json row = Json::array();
    for (std::size_t k = 0; k < m.cols(); ++k) row.push_back(to_string(m(i, k)));
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

Model parse_model(const Json& json, const std::string& file) {
  JsonReader root(file, json);
  root.expect_object({"format", "d", "C", "kernel", "probe_label_init", "probe_is_key", "layers"});
  expect_format_1(root);
  Model m;
  if (root.has("d") != root.has("C")) root.field(root.has("d") ? "C" : "d").fail("missing (d and C go together)");
  if (root.has("d")) {
    m.d = root.field("d").integer(1, kMaxFeatures);
    m.C = root.field("C").integer(2, kMaxClasses);
  }
  if (root.has("kernel"))
    m.kernel = root.field("kernel").one_of({"softmax", "linear"}) == "softmax" ? Kernel::softmax : Kernel::linear;
  if (root.has("probe_label_init"))
    m.probe_label_init = root.field("probe_label_init").one_of({"zero", "uniform"}) == "zero"
                             ? ProbeLabelInit::zero
                             : ProbeLabelInit::uniform;
  if (root.has("probe_is_key")) m.probe_is_key = root.field("probe_is_key").boolean();
  JsonReader layers = root.field("layers");
  std::size_t L = layers.expect_array(0, kMaxLayers);
  for (std::size_t l = 0; l < L; ++l) m.layers.push_back(read_layer(layers.element(l)));
  if (m.d > 0)
    if (const std::size_t D = dense_size(m); D > 0 && D != static_cast<std::size_t>(m.d + m.C))
      root.field("d").fail("d + C = " + std::to_string(m.d + m.C) + " but the dense matrices are " +
                           std::to_string(D) + " x " + std::to_string(D));
  return m;
}

std::size_t dense_size(const Model& m) {
  for (const auto& layer : m.layers)
    if (const auto* dense = std::get_if<DenseLayer<Rational>>(&layer)) return dense->heads.at(0).score.rows();
  return 0;
}

void fill_split(Model& m, int d, int C) {
  if (m.d == 0 && dense_size(m) > 0) {
    m.d = d;
    m.C = C;
  }
}

void require_model_fits(const Model& m, int d, int C, const std::string& model_file, const std::string& what) {
  if (m.d > 0 && (m.d != d || m.C != C))
    throw InputError(model_file, m.d != d ? "d" : "C",
                     "the model is for d = " + std::to_string(m.d) + ", C = " + std::to_string(m.C) + ", but " +
                         what + " has d = " + std::to_string(d) + ", C = " + std::to_string(C));
  const std::size_t D = static_cast<std::size_t>(d + C);
  for (std::size_t l = 0; l < m.layers.size(); ++l)
    if (const auto* dense = std::get_if<DenseLayer<Rational>>(&m.layers[l]))
      for (std::size_t h = 0; h < dense->heads.size(); ++h)
        if (dense->heads[h].score.rows() != D)
          throw InputError(model_file, "layers[" + std::to_string(l) + "].heads[" + std::to_string(h) + "].score_matrix",
                           "expected a " + std::to_string(D) + " x " + std::to_string(D) + " matrix (d + C of " +
                               what + "), got " + std::to_string(dense->heads[h].score.rows()) + " x " +
                               std::to_string(dense->heads[h].score.rows()));
}

namespace {
// A weight file of PyTorch, NumPy or safetensors, by its name: such a file is no
// model file, and the error says which Python call converts it (docs/python.md).
bool weight_file_name(const std::string& path) {
  for (const char* ext : {".pt", ".pth", ".bin", ".ckpt", ".pkl", ".npz", ".npy", ".safetensors"}) {
    const std::string e = ext;
    if (path.size() > e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0) return true;
  }
  return false;
}

// The same by its first bytes, whatever its name, or "": read before the whole
// file, since a weight file of a gigabyte would otherwise be refused for its size,
// which says nothing of the cause.
std::string weight_file_kind(const std::string& path) {
  check_input_file(path);  // a FIFO would block the open below for ever
  std::ifstream in(path, std::ios::binary);
  char bytes[16] = {};
  in.read(bytes, sizeof bytes);
  const std::string_view head(bytes, static_cast<std::size_t>(in.gcount()));
  const bool npz = path.size() > 4 && path.compare(path.size() - 4, 4, ".npz") == 0;
  if (head.starts_with("PK\x03\x04") || head.starts_with("PK\x05\x06"))
    return npz ? "a NumPy .npz archive" : "a PyTorch .pt archive (a zip file)";
  if (head.starts_with("\x93NUMPY")) return "a NumPy .npy array";
  if (!head.empty() && static_cast<unsigned char>(head[0]) == 0x80) return "a Python pickle (PyTorch's legacy format)";
  // safetensors: the header's length as 8 bytes little-endian (far below 2^48), then its JSON.
  if (head.size() >= 9 && head[8] == '{' && head[6] == 0 && head[7] == 0) return "a safetensors file";
  return "";
}

std::string weight_file_error(const std::string& kind, const std::string& path) {
  return (kind.empty() ? std::string("if it holds a trained model's weights")
                       : "not a JSON model file (looks like " + kind + ")") +
         ": convert it in Python with iclcert.torch.load_weights(\"" + path +
         "\", d, C, heads).to_json(\"model.json\") (or iclcert.torch.from_module on the loaded module; "
         "docs/python.md), or with the exporter of examples/train/train.py (examples/train/iclcert_export.py)";
}
}  // namespace

Model read_model_file(const std::string& path) {
  if (const std::string kind = weight_file_kind(path); !kind.empty())
    throw InputError(path, "", weight_file_error(kind, path));
  Json json;
  try {
    json = load_json_file(path);
  } catch (const InputError& e) {
    const std::string what = e.what();
    const auto at = what.find("malformed JSON");
    if (!e.field().empty() || at == std::string::npos) throw;
    // Any file that does not parse: a weight file by its name, or a hint all the same.
    throw InputError(path, "", what.substr(at) + "; " +
                                   weight_file_error(weight_file_name(path) ? "a weight file, by its name" : "", path));
  }
  return parse_model(json, path);
}

Json model_to_json(const Model& m) {
  Json layers = Json::array();
  for (const auto& layer : m.layers) {
    if (const auto* r = std::get_if<ReducedLayer<Rational>>(&layer)) {
      Json j = coefficients_json(r->train);
      if (r->probe) j["probe"] = coefficients_json(*r->probe);
      layers.push_back(j);
    } else if (const auto* f = std::get_if<FullLayer<Rational>>(&layer)) {
      Json heads = Json::array();
      for (const auto& h : f->heads) {
        Json s = Json::array(), v = Json::array();
        for (std::size_t k = 0; k < 6; ++k) {
          s.push_back(to_string(h.score[k]));
          v.push_back(to_string(h.value[k]));
        }
        heads.push_back({{"score", s}, {"value", v}});
      }
      layers.push_back({{"heads", heads}});
    } else {
      Json heads = Json::array();
      for (const auto& h : std::get<DenseLayer<Rational>>(layer).heads)
        heads.push_back({{"score_matrix", matrix_json(h.score)}, {"value_matrix", matrix_json(h.value)}});
      layers.push_back({{"heads", heads}});
    }
  }
  Json j = {{"format", 1}};
  if (m.d > 0) {
    j["d"] = m.d;
    j["C"] = m.C;
  }
  Json rest = {{"kernel", m.kernel == Kernel::softmax ? "softmax" : "linear"},
          {"probe_label_init", m.probe_label_init == ProbeLabelInit::zero ? "zero" : "uniform"},
          {"probe_is_key", m.probe_is_key},
          {"layers", layers}};
  for (auto& [key, value] : rest.items()) j[key] = std::move(value);
  return j;
}

}  // namespace iclcert
