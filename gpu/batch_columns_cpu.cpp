// The GPU's column arrangement (batch_columns.hpp) emulated on the CPU: each team's
// phases run for every column in turn, with a plain buffer as its shared memory.
// Slow, and not a backend: it lets the tests check, without a GPU, that the program
// the CUDA kernel runs gives the CPU backend's values bit for bit.
#include "gpu/batch_backend.hpp"
#include "gpu/batch_columns.hpp"

#include <stdexcept>
#include <vector>

namespace iclcert::gpu {
namespace {

template <class T, int MAXD>
struct CpuTeam {
  T* shared = nullptr;
  int first = 0;
  std::vector<ColumnRegs<T, MAXD>> regs;
  template <class F>
  void each(F&& f) {
    for (int tid = 0; tid < static_cast<int>(regs.size()); ++tid) f(tid, regs[tid]);
  }
};

template <class T, int MAXD>
void emulate(const TeamArgs<T>& args) {
  std::vector<T> shared(args.lay.shared_elems());
  CpuTeam<T, MAXD> team;
  team.shared = shared.data();
  team.regs.resize(args.lay.threads);
  for (int first = 0; first < args.count; first += args.lay.G) {
    team.first = first;
    run_team<T, MAXD>(args, team);
  }
}

}  // namespace

bool model_has_dense_layer(const int* kind, int layers) {
  for (int l = 0; l < layers; ++l)
    if (kind[l] != kReducedLayer) return true;
  return false;
}

template <class T>
void run_block_columns_emulated(const ModelView<T>& model, const PromptBlock<T>& block, Detail detail,
                                int team_prompts, BlockOutput<T>& out) {
  out.prepare(block, model.layers, detail);
  if (block.count == 0) return;
  TeamArgs<T> a;
  a.m = model;
  a.lay = team_layout(team_prompts, block.d, block.C, block.N, model.probe_is_key,
                      model_has_dense_layer(model.kind, model.layers));
  a.count = block.count;
  a.detail = static_cast<int>(detail);
  a.X = block.X.data();
  a.labels = block.labels.data();
  a.probe = block.probe.data();
  a.probe_label = block.probe_label.data();
  a.predictions = out.predictions.data();
  a.margins = out.probe_margins.data();
  a.records = out.records.data();
  a.states = out.states.data();
  switch (column_regs_for(block.d + block.C)) {
    case 8: emulate<T, 8>(a); break;
    case 16: emulate<T, 16>(a); break;
    case 24: emulate<T, 24>(a); break;
    case 32: emulate<T, 32>(a); break;
    default: throw std::invalid_argument("the column kernel takes d + C <= 32");
  }
}

template void run_block_columns_emulated<float>(const ModelView<float>&, const PromptBlock<float>&, Detail, int,
                                                BlockOutput<float>&);
template void run_block_columns_emulated<double>(const ModelView<double>&, const PromptBlock<double>&, Detail,
                                                 int, BlockOutput<double>&);

}  // namespace iclcert::gpu
