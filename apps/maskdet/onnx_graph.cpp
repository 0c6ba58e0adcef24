// Building the detector's ONNX graph (onnx_graph.h): a small writer for nodes, constants and
// initializers, then one function per part of the model, each mirroring that part's forward.
#include "apps/maskdet/onnx_graph.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <set>
#include <variant>

#include "apps/data/normalize.h"
#include "layers/activation.h"
#include "layers/batch_norm.h"
#include "layers/frozen_batch_norm.h"
#include "layers/group_norm.h"
#include "layers/pooling.h"
#include "retinanet/mobilenet_v2.h"
#include "retinanet/resnet.h"
#include "tensor/atomic_file.h"

namespace maskdet::app {

namespace {

using Attribute = std::variant<int64_t, float, std::vector<int64_t>, std::string>;
using Attributes = std::vector<std::pair<std::string, Attribute>>;

// Appends nodes, constants and initializers to one GraphProto, naming every value uniquely.
class GraphWriter {
 public:
  explicit GraphWriter(onnx::GraphProto& graph) : graph_(graph) {}
  bool relu6_as_relus = false;  // OnnxExportOptions::opencv_compatible

  // A value name not used yet, built from `hint`.
  std::string fresh(const std::string& hint) {
    std::string name = hint;
    for (int n = 1; !used_.insert(name).second; ++n) name = hint + "_" + std::to_string(n);
    return name;
  }

  // One node with one output; returns the output's name.
  std::string op(const std::string& type, const std::vector<std::string>& inputs, const std::string& hint,
                 const Attributes& attributes = {}) {
    return op_multi(type, inputs, {hint}, attributes)[0];
  }

  std::vector<std::string> op_multi(const std::string& type, const std::vector<std::string>& inputs,
                                    const std::vector<std::string>& hints, const Attributes& attributes = {}) {
    onnx::NodeProto* node = graph_.add_node();
    node->set_op_type(type);
    for (const std::string& input : inputs) node->add_input(input);
    std::vector<std::string> outputs;
    for (const std::string& hint : hints) {
      outputs.push_back(fresh(hint));
      node->add_output(outputs.back());
    }
    node->set_name(outputs[0]);
    for (const auto& [name, value] : attributes) {
      onnx::AttributeProto* a = node->add_attribute();
      a->set_name(name);
      if (const auto* i = std::get_if<int64_t>(&value)) {
        a->set_type(onnx::AttributeProto::INT);
        a->set_i(*i);
      } else if (const auto* f = std::get_if<float>(&value)) {
        a->set_type(onnx::AttributeProto::FLOAT);
        a->set_f(*f);
      } else if (const auto* ints = std::get_if<std::vector<int64_t>>(&value)) {
        a->set_type(onnx::AttributeProto::INTS);
        for (int64_t v : *ints) a->add_ints(v);
      } else {
        a->set_type(onnx::AttributeProto::STRING);
        a->set_s(std::get<std::string>(value));
      }
    }
    return outputs;
  }

  // A float32 initializer under `name` (once: shared weights are used by several nodes), with
  // `dims` (default: the tensor's shape).
  const std::string& weight(const std::string& name, const Tensor& tensor, std::vector<int64_t> dims = {}) {
    if (initializers_.count(name)) return *initializers_.find(name);
    MASKDET_CHECK(tensor.defined(), "ONNX export: ", name, " is undefined");
    if (dims.empty()) dims = tensor.shape();
    const std::vector<float> values = tensor.detach().to(Device::cpu()).to(DType::Float32).contiguous().to_vector<float>();
    add_tensor(name, onnx::TensorProto::FLOAT, dims, values.data(), values.size() * sizeof(float));
    used_.insert(name);
    return *initializers_.insert(name).first;
  }

  std::string floats(const std::string& hint, const std::vector<float>& values, const std::vector<int64_t>& dims) {
    const std::string name = fresh(hint);
    add_tensor(name, onnx::TensorProto::FLOAT, dims, values.data(), values.size() * sizeof(float));
    initializers_.insert(name);
    return name;
  }
  std::string ints(const std::string& hint, const std::vector<int64_t>& values, const std::vector<int64_t>& dims) {
    const std::string name = fresh(hint);
    add_tensor(name, onnx::TensorProto::INT64, dims, values.data(), values.size() * sizeof(int64_t));
    initializers_.insert(name);
    return name;
  }
  // 1-D int64 constants, e.g. a Reshape's shape; scalars (dims {}) for Range.
  std::string ints(const std::string& hint, const std::vector<int64_t>& values) {
    return ints(hint, values, {static_cast<int64_t>(values.size())});
  }
  std::string scalar(const std::string& hint, float value) { return floats(hint, {value}, {}); }
  std::string scalar_double(const std::string& hint, double value) {
    const std::string name = fresh(hint);
    add_tensor(name, onnx::TensorProto::DOUBLE, {}, &value, sizeof value);
    initializers_.insert(name);
    return name;
  }
  std::string scalar_int(const std::string& hint, int64_t value) { return ints(hint, {value}, {}); }

  void input(const std::string& name, int32_t elem_type, const std::vector<std::string>& dims) {
    add_value_info(graph_.add_input(), name, elem_type, dims);
    used_.insert(name);
  }
  void output(const std::string& value, int32_t elem_type, const std::vector<std::string>& dims) {
    add_value_info(graph_.add_output(), value, elem_type, dims);
  }

 private:
  void add_tensor(const std::string& name, int32_t type, const std::vector<int64_t>& dims, const void* data,
                  size_t bytes) {
    onnx::TensorProto* t = graph_.add_initializer();
    t->set_name(name);
    t->set_data_type(type);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(data, bytes);  // little-endian, as the format stores raw data
  }
  // dims: a number is a fixed size, anything else the name of a dynamic one ("N").
  static void add_value_info(onnx::ValueInfoProto* info, const std::string& name, int32_t elem_type,
                             const std::vector<std::string>& dims) {
    info->set_name(name);
    onnx::TypeProto_Tensor* type = info->mutable_type()->mutable_tensor_type();
    type->set_elem_type(elem_type);
    onnx::TensorShapeProto* shape = type->mutable_shape();
    for (const std::string& d : dims) {
      auto* dim = shape->add_dim();
      if (!d.empty() && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; }))
        dim->set_dim_value(std::stoll(d));
      else
        dim->set_dim_param(d);
    }
  }

  onnx::GraphProto& graph_;
  std::set<std::string> used_;
  std::set<std::string> initializers_;
};

// The child `name` of `parent` as a T; its full dotted name is path + "." + name.
template <class T>
T& child(const nn::Module& parent, const std::string& path, const std::string& name) {
  for (const auto& [child_name, module] : parent.named_children())
    if (child_name == name) {
      auto* typed = dynamic_cast<T*>(module.get());
      MASKDET_CHECK(typed, "ONNX export: ", path, ".", name, " is a ", module->name(), ", not the layer expected there");
      return *typed;
    }
  MASKDET_FAIL("ONNX export: ", path, " has no child '", name, "'");
}

bool has_child(const nn::Module& parent, const std::string& name) {
  const auto& children = parent.named_children();
  return std::any_of(children.begin(), children.end(), [&](const auto& c) { return c.first == name; });
}

// x: (N, in, H, W) -> (N, out, OH, OW)
std::string conv(GraphWriter& g, const nn::Conv2d& conv, const std::string& name, const std::string& x,
                 const std::string& tag = "") {
  const nn::Conv2dOptions& o = conv.options();
  std::vector<std::string> inputs{x, g.weight(name + ".weight", conv.weight())};
  if (conv.bias().defined()) inputs.push_back(g.weight(name + ".bias", conv.bias()));
  return g.op("Conv", inputs, name + tag,
              {{"kernel_shape", std::vector<int64_t>{o.kernel_size, o.kernel_size}},
               {"strides", std::vector<int64_t>{o.stride, o.stride}},
               {"pads", std::vector<int64_t>{o.padding, o.padding, o.padding, o.padding}},
               {"dilations", std::vector<int64_t>{o.dilation, o.dilation}},
               {"group", o.groups}});
}

// A backbone norm layer in eval form: y = (x - running_mean) / sqrt(running_var + eps) * weight + bias.
std::string batch_norm(GraphWriter& g, const nn::Module& norm, const std::string& name, const std::string& x) {
  if (const auto* frozen = dynamic_cast<const nn::FrozenBatchNorm2d*>(&norm))
    return g.op("BatchNormalization",
                {x, g.weight(name + ".weight", frozen->weight()), g.weight(name + ".bias", frozen->bias()),
                 g.weight(name + ".running_mean", frozen->running_mean()),
                 g.weight(name + ".running_var", frozen->running_var())},
                name, {{"epsilon", static_cast<float>(frozen->eps())}});
  const auto* bn = dynamic_cast<const nn::BatchNorm2d*>(&norm);
  MASKDET_CHECK(bn, "ONNX export: ", name, " is a ", norm.name(), ", not a batch norm");
  MASKDET_CHECK(bn->options().affine && bn->options().track_running_stats, "ONNX export: ", name,
                " needs its affine parameters and running statistics (affine and track_running_stats)");
  return g.op("BatchNormalization",
              {x, g.weight(name + ".weight", bn->weight()), g.weight(name + ".bias", bn->bias()),
               g.weight(name + ".running_mean", bn->running_mean()), g.weight(name + ".running_var", bn->running_var())},
              name, {{"epsilon", static_cast<float>(bn->options().eps)}});
}

std::string relu(GraphWriter& g, const std::string& x, const std::string& hint) { return g.op("Relu", {x}, hint); }

// min(max(x, 0), 6): Clip, or with g.relu6_as_relus relu(x) - relu(x - 6), for OpenCV 4.6, whose
// importer takes Clip only in its opset-6 form (bounds as attributes, gone in opset 17).
std::string relu6(GraphWriter& g, const std::string& x, const std::string& hint) {
  if (!g.relu6_as_relus) return g.op("Clip", {x, g.scalar("zero", 0.f), g.scalar("six", 6.f)}, hint);
  const std::string above = g.op("Relu", {g.op("Sub", {x, g.scalar("six", 6.f)}, hint + "/minus6")}, hint + "/above6");
  return g.op("Sub", {g.op("Relu", {x}, hint + "/relu"), above}, hint);
}

// GroupNorm as (N, C, H, W) -> Reshape (N, G, C/G * H, W) -> InstanceNormalization (over all but
// N, G: each group's channels and positions) -> Reshape (N, C, H, W) -> * weight + bias. Both
// reshapes use only 0 (copy the input's dim) and -1, so they hold for any N, H, W.
std::string group_norm(GraphWriter& g, const nn::GroupNorm& norm, const std::string& name, const std::string& x,
                       const std::string& tag) {
  const nn::GroupNormOptions& o = norm.options();
  const std::string grouped = g.op("Reshape", {x, g.ints("group_shape", {0, o.num_groups, -1, 0})}, name + tag + "/groups");
  const std::string normalised =
      g.op("InstanceNormalization",
           {grouped, g.floats("group_ones", std::vector<float>(o.num_groups, 1.f), {o.num_groups}),
            g.floats("group_zeros", std::vector<float>(o.num_groups, 0.f), {o.num_groups})},
           name + tag + "/normalised", {{"epsilon", static_cast<float>(o.eps)}});
  const std::string y =
      g.op("Reshape", {normalised, g.ints("channel_shape", {0, o.num_channels, -1, 0})}, name + tag + "/channels");
  if (!o.affine) return y;
  // The per-channel affine map as a BatchNormalization with mean 0, variance 1 and epsilon 0
  // (OpenCV 4.6 runs a Mul or Add with a (C, 1, 1) constant only on batches of one).
  const std::vector<float> zeros(static_cast<size_t>(o.num_channels), 0.f), ones(zeros.size(), 1.f);
  return g.op("BatchNormalization",
              {y, g.weight(name + ".weight", norm.weight()), g.weight(name + ".bias", norm.bias()),
               g.floats("zero_mean", zeros, {o.num_channels}), g.floats("unit_variance", ones, {o.num_channels})},
              name + tag, {{"epsilon", 0.f}});
}

// ---- backbones ----

std::vector<std::string> resnet(GraphWriter& g, const ResNet& net, const std::string& path, const std::string& x) {
  std::string c = relu(g, batch_norm(g, child<nn::Module>(net, path, "bn1"), path + ".bn1",
                                     conv(g, child<nn::Conv2d>(net, path, "conv1"), path + ".conv1", x)),
                       path + ".relu");
  const nn::MaxPool2dOptions& pool = child<nn::MaxPool2d>(net, path, "maxpool").options();
  c = g.op("MaxPool", {c}, path + ".maxpool",
           {{"kernel_shape", std::vector<int64_t>{pool.kernel_size, pool.kernel_size}},
            {"strides", std::vector<int64_t>{pool.stride ? pool.stride : pool.kernel_size,
                                             pool.stride ? pool.stride : pool.kernel_size}},
            {"pads", std::vector<int64_t>{pool.padding, pool.padding, pool.padding, pool.padding}},
            {"ceil_mode", int64_t{pool.ceil_mode}}});
  std::vector<std::string> features;
  for (int s = 1; s <= 4; ++s) {
    const std::string stage_path = path + ".layer" + std::to_string(s);
    const auto& stage = child<nn::Sequential>(net, path, "layer" + std::to_string(s));
    for (size_t b = 0; b < stage.size(); ++b) {
      const std::string block_path = stage_path + "." + std::to_string(b);
      const auto& block = child<ResidualBlock>(stage, stage_path, std::to_string(b));
      std::string out = c;
      for (int i = 1; has_child(block, "conv" + std::to_string(i)); ++i) {
        const std::string index = std::to_string(i);
        out = batch_norm(g, child<nn::Module>(block, block_path, "bn" + index), block_path + ".bn" + index,
                         conv(g, child<nn::Conv2d>(block, block_path, "conv" + index), block_path + ".conv" + index, out));
        if (has_child(block, "conv" + std::to_string(i + 1))) out = relu(g, out, block_path + ".relu" + index);
      }
      std::string shortcut = c;
      if (has_child(block, "downsample")) {
        const std::string ds = block_path + ".downsample";
        const auto& downsample = child<nn::Sequential>(block, block_path, "downsample");
        shortcut = batch_norm(g, child<nn::Module>(downsample, ds, "1"), ds + ".1",
                              conv(g, child<nn::Conv2d>(downsample, ds, "0"), ds + ".0", c));
      }
      c = relu(g, g.op("Add", {out, shortcut}, block_path + "/sum"), block_path);
    }
    if (s >= 2) features.push_back(c);  // layer2..layer4: C3..C5
  }
  return features;
}

// torchvision's Conv2dNormActivation: conv "0", norm "1", ReLU6 "2" (when present).
std::string conv_norm_activation(GraphWriter& g, const nn::Sequential& layer, const std::string& path,
                                 const std::string& x) {
  std::string y = batch_norm(g, child<nn::Module>(layer, path, "1"), path + ".1",
                             conv(g, child<nn::Conv2d>(layer, path, "0"), path + ".0", x));
  return has_child(layer, "2") ? relu6(g, y, path + ".2") : y;
}

struct BlockOutput {
  std::string value;
  int64_t stride, channels;  // the block's own stride; its output channels
};

BlockOutput mobilenet_block(GraphWriter& g, const nn::Module& block, const std::string& path, const std::string& x) {
  if (const auto* stem = dynamic_cast<const ConvNormActivation*>(&block)) {
    const auto& c = child<nn::Conv2d>(*stem, path, "0").options();
    return {conv_norm_activation(g, *stem, path, x), c.stride, c.out_channels};
  }
  const auto* inverted = dynamic_cast<const InvertedResidual*>(&block);
  MASKDET_CHECK(inverted, "ONNX export: ", path, " is a ", block.name(), ", not a MobileNetV2 block");
  const std::string conv_path = path + ".conv";
  const auto& layers = child<nn::Sequential>(*inverted, path, "conv");
  MASKDET_CHECK(layers.size() >= 3, "ONNX export: ", conv_path, " has ", layers.size(), " layers");
  // Children: the expansion and depthwise Conv2dNormActivations, then the projection and its norm.
  std::string y = x;
  int64_t in_channels = -1;
  for (size_t i = 0; i + 2 < layers.size(); ++i) {
    const auto& stage = child<ConvNormActivation>(layers, conv_path, std::to_string(i));
    if (in_channels < 0) in_channels = child<nn::Conv2d>(stage, conv_path, "0").options().in_channels;
    y = conv_norm_activation(g, stage, conv_path + "." + std::to_string(i), y);
  }
  const std::string project = std::to_string(layers.size() - 2), project_norm = std::to_string(layers.size() - 1);
  const auto& projection = child<nn::Conv2d>(layers, conv_path, project);
  y = batch_norm(g, child<nn::Module>(layers, conv_path, project_norm), conv_path + "." + project_norm,
                 conv(g, projection, conv_path + "." + project, y));
  const int64_t out_channels = projection.options().out_channels;
  // As InvertedResidual::forward: the input is added back when the block keeps the size and width.
  if (inverted->stride() == 1 && in_channels == out_channels) y = g.op("Add", {x, y}, path);
  return {y, inverted->stride(), out_channels};
}

// C3, C4, C5: the output of the last block at strides 8, 16 and 32.
std::vector<std::string> mobilenet_v2(GraphWriter& g, const MobileNetV2Features& net, const std::string& path,
                                      const std::string& x) {
  std::vector<BlockOutput> outputs;
  std::string c = x;
  for (size_t i = 0; i < net.size(); ++i) {
    const std::string name = std::to_string(i);
    outputs.push_back(mobilenet_block(g, child<nn::Module>(net, path, name), path + "." + name, c));
    c = outputs.back().value;
  }
  std::vector<std::string> features;
  std::vector<int64_t> channels;
  int64_t stride = 1;
  for (size_t i = 0; i < outputs.size(); ++i) {
    stride *= outputs[i].stride;
    const bool last_at_stride = i + 1 == outputs.size() || outputs[i + 1].stride > 1;
    if (last_at_stride && (stride == 8 || stride == 16 || stride == 32)) {
      features.push_back(outputs[i].value);
      channels.push_back(outputs[i].channels);
    }
  }
  MASKDET_CHECK(channels == net.feature_channels(), "ONNX export: ", path,
                ": the blocks ending strides 8, 16 and 32 are not the backbone's C3, C4, C5");
  return features;
}

// ---- pyramid and head ----

std::vector<std::string> feature_pyramid(GraphWriter& g, const FeaturePyramid& fpn, const std::string& path,
                                         const std::vector<std::string>& c) {
  const auto& inner = child<nn::Module>(fpn, path, "inner_blocks");
  const auto& layer = child<nn::Module>(fpn, path, "layer_blocks");
  auto wrapped_conv = [&](const nn::Module& list, const std::string& list_name, size_t i, const std::string& x) {
    const std::string list_path = path + "." + list_name, name = list_path + "." + std::to_string(i);
    const auto& seq = child<nn::Sequential>(list, list_path, std::to_string(i));
    return conv(g, child<nn::Conv2d>(seq, name, "0"), name + ".0", x);
  };
  const size_t levels = c.size();
  std::vector<std::string> p(levels);
  std::string merged = wrapped_conv(inner, "inner_blocks", levels - 1, c[levels - 1]);
  p[levels - 1] = wrapped_conv(layer, "layer_blocks", levels - 1, merged);
  for (size_t l = levels - 1; l-- > 0;) {
    const std::string lateral = wrapped_conv(inner, "inner_blocks", l, c[l]);
    // Inputs are multiples of 32, so each level is exactly twice the one above: nearest
    // upsampling by 2 (source index floor(dst / 2)) is the forward's upsampling to the lateral's size.
    const std::string up = g.op("Resize", {merged, "", g.floats("upsample_scales", {1, 1, 2, 2}, {4})},
                                path + ".upsample" + std::to_string(l),
                                {{"mode", std::string("nearest")},
                                 {"coordinate_transformation_mode", std::string("asymmetric")},
                                 {"nearest_mode", std::string("floor")}});
    merged = g.op("Add", {lateral, up}, path + ".merged" + std::to_string(l));
    p[l] = wrapped_conv(layer, "layer_blocks", l, merged);
  }
  const auto& extra = child<nn::Module>(fpn, path, "extra_blocks");
  const std::string extra_path = path + ".extra_blocks";
  const std::string p6 = conv(g, child<nn::Conv2d>(extra, extra_path, "p6"), extra_path + ".p6",
                              fpn.config().p6_source == P6Source::C5 ? c.back() : p.back());
  p.push_back(p6);
  p.push_back(conv(g, child<nn::Conv2d>(extra, extra_path, "p7"), extra_path + ".p7",
                   relu(g, p6, extra_path + ".p6_relu")));
  return p;
}

// One subnet on one level: features (N, C, h, w) -> (N, h * w * A, V), rows in position-major,
// anchor-minor order as HeadSubnet::forward.
std::string head_subnet(GraphWriter& g, const HeadSubnet& subnet, const std::string& path, const std::string& x,
                        const std::string& predictor_name, int64_t values, const std::string& tag) {
  std::string y = x;
  const nn::Sequential& tower = *subnet.tower();
  const std::string tower_path = path + ".conv";
  for (size_t i = 0; i < tower.size(); ++i) {
    const std::string stage_path = tower_path + "." + std::to_string(i);
    const auto& stage = child<nn::Sequential>(tower, tower_path, std::to_string(i));
    for (size_t j = 0; j < stage.size(); ++j) {
      const std::string layer_path = stage_path + "." + std::to_string(j);
      const nn::UnaryModule& layer = *stage[j];
      if (const auto* c = dynamic_cast<const nn::Conv2d*>(&layer))
        y = conv(g, *c, layer_path, y, tag);
      else if (const auto* gn = dynamic_cast<const nn::GroupNorm*>(&layer))
        y = group_norm(g, *gn, layer_path, y, tag);
      else if (dynamic_cast<const nn::ReLU*>(&layer))
        y = relu(g, y, layer_path + tag);
      else
        MASKDET_FAIL("ONNX export: ", layer_path, " is a ", layer.name(), ", which the export does not know");
    }
  }
  y = conv(g, *subnet.predictor(), path + "." + predictor_name, y, tag);  // (N, A * V, h, w)
  // Channel a * V + v is value v of anchor a: with the channels last, rows of V are anchors in order.
  y = g.op("Transpose", {y}, path + tag + "/channels_last", {{"perm", std::vector<int64_t>{0, 2, 3, 1}}});
  return g.op("Reshape", {y, g.ints("rows_shape", {0, -1, values})}, path + tag + "/rows");
}

// ---- post-processing ----

// The anchors of one level, (h * w * A, 4), as generate_anchors makes them: the cell anchors
// shifted by (x * stride_w, y * stride_h), stride = input size / feature size (integer division).
std::string level_anchors(GraphWriter& g, const std::string& image_shape, const std::string& feature,
                          const Tensor& cell, const std::string& tag) {
  const std::string shape = g.op("Shape", {feature}, "anchors" + tag + "/feature_shape");
  const std::string hw_index = g.ints("hw_index", {2, 3});
  const std::string feature_hw = g.op("Gather", {shape, hw_index}, "anchors" + tag + "/feature_hw");
  const std::string image_hw = g.op("Gather", {image_shape, hw_index}, "anchors" + tag + "/image_hw");
  const std::string strides = g.op("Div", {image_hw, feature_hw}, "anchors" + tag + "/strides");
  auto axis = [&](int64_t i, const std::string& name) {
    const std::string index = g.scalar_int("index", i);
    const std::string size = g.op("Gather", {feature_hw, index}, "anchors" + tag + "/" + name + "_cells");
    const std::string stride = g.op("Gather", {strides, index}, "anchors" + tag + "/" + name + "_stride");
    const std::string cells = g.op("Range", {g.scalar_int("zero_i", 0), size, g.scalar_int("one_i", 1)},
                                   "anchors" + tag + "/" + name + "_range");
    return g.op("Cast", {g.op("Mul", {cells, stride}, "anchors" + tag + "/" + name + "_shift_i")},
                "anchors" + tag + "/" + name + "_shift", {{"to", int64_t{onnx::TensorProto::FLOAT}}});
  };
  const std::string ys = axis(0, "y"), xs = axis(1, "x");
  // Row-major cells: x varies fastest.
  const std::string sx = g.op("Expand", {g.op("Unsqueeze", {xs, g.ints("axis0", {0})}, "anchors" + tag + "/x_row"), feature_hw},
                              "anchors" + tag + "/x_grid");
  const std::string sy = g.op("Expand", {g.op("Unsqueeze", {ys, g.ints("axis1", {1})}, "anchors" + tag + "/y_col"), feature_hw},
                              "anchors" + tag + "/y_grid");
  const std::string column = g.ints("column_shape", {-1, 1});
  const std::string fx = g.op("Reshape", {sx, column}, "anchors" + tag + "/x_flat");
  const std::string fy = g.op("Reshape", {sy, column}, "anchors" + tag + "/y_flat");
  const std::string shifts = g.op("Concat", {fx, fy, fx, fy}, "anchors" + tag + "/shifts", {{"axis", int64_t{1}}});
  const std::string shifts3 = g.op("Unsqueeze", {shifts, g.ints("axis1", {1})}, "anchors" + tag + "/shifts3");  // (P, 1, 4)
  const std::vector<double> cell_values = cell.to_vector<double>();
  const std::vector<float> cell_f(cell_values.begin(), cell_values.end());
  const std::string cells = g.floats("cell_anchors" + tag, cell_f, {1, cell.size(0), 4});
  const std::string all = g.op("Add", {shifts3, cells}, "anchors" + tag + "/grid");  // (P, A, 4)
  return g.op("Reshape", {all, g.ints("box_rows", {-1, 4})}, "anchors" + tag);
}

struct LevelCandidates {
  std::string scores, labels, deltas, anchors;  // (N, k), (N, k) int64, (N, k, 4), (N, k, 4)
};

// The best topk (anchor, class) pairs of one level per image, by sigmoid score.
LevelCandidates level_candidates(GraphWriter& g, const std::string& logits, const std::string& deltas,
                                 const std::string& anchors, int64_t num_classes, int64_t topk, const std::string& tag) {
  const std::string t = "candidates" + tag;
  const std::string scores = g.op("Reshape", {g.op("Sigmoid", {logits}, t + "/sigmoid"), g.ints("flat_shape", {0, -1})},
                                  t + "/scores_flat");  // (N, A_l * K)
  const std::string count = g.op("Gather", {g.op("Shape", {scores}, t + "/shape"), g.ints("index1", {1})}, t + "/count");
  const std::string k = g.op("Min", {count, g.ints("topk", {topk})}, t + "/k");
  const auto top = g.op_multi("TopK", {scores, k}, {t + "/scores", t + "/indices"},
                              {{"axis", int64_t{1}}, {"largest", int64_t{1}}, {"sorted", int64_t{1}}});
  const std::string classes = g.ints("num_classes", {num_classes}, {});
  const std::string anchor_index = g.op("Div", {top[1], classes}, t + "/anchor_index");
  const std::string labels = g.op("Mod", {top[1], classes}, t + "/labels");
  const std::string index3 = g.op("Unsqueeze", {anchor_index, g.ints("axis2", {2})}, t + "/anchor_index3");
  const std::string level_deltas = g.op("GatherND", {deltas, index3}, t + "/deltas", {{"batch_dims", int64_t{1}}});
  const std::string level_anchors = g.op("Gather", {anchors, anchor_index}, t + "/anchors", {{"axis", int64_t{0}}});
  return {top[0], labels, level_deltas, level_anchors};
}

// anchors, deltas: (N, M, 4) -> boxes (N, M, 4), as decode_boxes then clip_boxes to the input.
std::string decode_and_clip(GraphWriter& g, const std::string& anchors, const std::string& deltas,
                            const BoxCoderWeights& coder, const std::string& image_shape) {
  const std::string split = g.ints("split4", {1, 1, 1, 1});
  const auto a = g.op_multi("Split", {anchors, split}, {"decode/ax1", "decode/ay1", "decode/ax2", "decode/ay2"},
                            {{"axis", int64_t{2}}});
  const auto d = g.op_multi("Split", {deltas, split}, {"decode/dx", "decode/dy", "decode/dw", "decode/dh"},
                            {{"axis", int64_t{2}}});
  const std::string half = g.scalar("half", 0.5f);
  const std::string aw = g.op("Sub", {a[2], a[0]}, "decode/aw"), ah = g.op("Sub", {a[3], a[1]}, "decode/ah");
  const std::string acx = g.op("Add", {a[0], g.op("Mul", {half, aw}, "decode/half_aw")}, "decode/acx");
  const std::string acy = g.op("Add", {a[1], g.op("Mul", {half, ah}, "decode/half_ah")}, "decode/acy");
  auto weighted = [&](const std::string& v, int i, const std::string& name) {
    return g.op("Div", {v, g.scalar("coder_weight", static_cast<float>(coder.weights[static_cast<size_t>(i)]))},
                "decode/" + name);
  };
  const std::string max_log = g.scalar("max_log_scale", static_cast<float>(coder.max_log_scale));
  const std::string dx = weighted(d[0], 0, "dx_w"), dy = weighted(d[1], 1, "dy_w");
  const std::string dw = g.op("Min", {weighted(d[2], 2, "dw_w"), max_log}, "decode/dw_clamped");
  const std::string dh = g.op("Min", {weighted(d[3], 3, "dh_w"), max_log}, "decode/dh_clamped");
  const std::string cx = g.op("Add", {g.op("Mul", {dx, aw}, "decode/dx_aw"), acx}, "decode/cx");
  const std::string cy = g.op("Add", {g.op("Mul", {dy, ah}, "decode/dy_ah"), acy}, "decode/cy");
  const std::string pw = g.op("Mul", {g.op("Exp", {dw}, "decode/exp_dw"), aw}, "decode/pw");
  const std::string ph = g.op("Mul", {g.op("Exp", {dh}, "decode/exp_dh"), ah}, "decode/ph");
  const std::string half_pw = g.op("Mul", {half, pw}, "decode/half_pw"), half_ph = g.op("Mul", {half, ph}, "decode/half_ph");
  // Clipping to x in [0, W], y in [0, H] of the input tensor.
  const std::string image_hw = g.op("Cast", {g.op("Gather", {image_shape, g.ints("hw_index", {2, 3})}, "decode/image_hw_i")},
                                    "decode/image_hw", {{"to", int64_t{onnx::TensorProto::FLOAT}}});
  const std::string height = g.op("Gather", {image_hw, g.ints("index0", {0})}, "decode/height");
  const std::string width = g.op("Gather", {image_hw, g.ints("index1", {1})}, "decode/width");
  const std::string zero = g.scalar("zero", 0.f);
  auto clip = [&](const std::string& v, const std::string& hi, const std::string& name) {
    return g.op("Min", {g.op("Max", {v, zero}, "decode/" + name + "_lo"), hi}, "decode/" + name);
  };
  const std::string x1 = clip(g.op("Sub", {cx, half_pw}, "decode/x1_raw"), width, "x1");
  const std::string y1 = clip(g.op("Sub", {cy, half_ph}, "decode/y1_raw"), height, "y1");
  const std::string x2 = clip(g.op("Add", {cx, half_pw}, "decode/x2_raw"), width, "x2");
  const std::string y2 = clip(g.op("Add", {cy, half_ph}, "decode/y2_raw"), height, "y2");
  return g.op("Concat", {x1, y1, x2, y2}, "decode/boxes", {{"axis", int64_t{2}}});
}

// Candidates of all levels -> detections (D rows over the whole batch, grouped by image, by
// descending score within an image), as postprocess_detections.
void detections(GraphWriter& g, const std::vector<LevelCandidates>& levels, const std::string& image_shape,
                const RetinaNetConfig& config, const PostprocessConfig& pp) {
  auto concat = [&](auto member, const std::string& name) {
    std::vector<std::string> parts;
    for (const LevelCandidates& l : levels) parts.push_back(l.*member);
    return g.op("Concat", parts, "candidates/" + name, {{"axis", int64_t{1}}});
  };
  const std::string scores = concat(&LevelCandidates::scores, "scores");  // (N, M)
  const std::string labels = concat(&LevelCandidates::labels, "labels");  // (N, M)
  const std::string boxes = decode_and_clip(g, concat(&LevelCandidates::anchors, "anchors"),
                                            concat(&LevelCandidates::deltas, "deltas"), config.loss.box_coder,
                                            image_shape);  // (N, M, 4)
  // Candidates at or below the threshold get score -1, which NonMaxSuppression's score threshold drops.
  const std::string threshold = g.scalar("score_threshold", static_cast<float>(pp.score_threshold));
  const std::string minus_one = g.scalar("minus_one", -1.f);
  const std::string kept = g.op("Where", {g.op("Greater", {scores, threshold}, "nms/above"), scores, minus_one}, "nms/kept_scores");
  const std::string kept3 = g.op("Unsqueeze", {kept, g.ints("axis1", {1})}, "nms/kept_scores3");  // (N, 1, M)
  std::string class_scores = kept3;
  if (!pp.class_agnostic_nms) {
    // (N, K, M): a candidate's score in its own class's row, -1 in the others, so NMS runs per class.
    std::vector<int64_t> class_ids(static_cast<size_t>(config.num_classes));
    for (size_t c = 0; c < class_ids.size(); ++c) class_ids[c] = static_cast<int64_t>(c);
    const std::string ids = g.ints("class_ids", class_ids, {1, config.num_classes, 1});
    const std::string own = g.op("Equal", {g.op("Unsqueeze", {labels, g.ints("axis1", {1})}, "nms/labels3"), ids}, "nms/own_class");
    class_scores = g.op("Where", {own, kept3, minus_one}, "nms/class_scores");
  }
  const std::string selected = g.op(
      "NonMaxSuppression",
      {boxes, class_scores, g.ints("max_per_class", {pp.detections_per_image}),
       g.floats("iou_threshold", {static_cast<float>(pp.nms_iou_threshold)}, {1}), g.floats("nms_score_threshold", {0.f}, {1})},
      "nms/selected");  // (S, 3): batch, class, candidate
  const std::string image_candidate = g.op("Gather", {selected, g.ints("batch_and_box", {0, 2})}, "nms/image_candidate",
                                           {{"axis", int64_t{1}}});  // (S, 2)
  const std::string s_scores = g.op("GatherND", {scores, image_candidate}, "nms/scores");
  const std::string s_labels = g.op("GatherND", {labels, image_candidate}, "nms/labels");
  const std::string s_boxes = g.op("GatherND", {boxes, image_candidate}, "nms/boxes");
  const std::string s_image = g.op("Gather", {selected, g.scalar_int("index0_s", 0)}, "nms/image", {{"axis", int64_t{1}}});
  // Order by image, then by descending score: ascending image * 4 - score (scores are in (0, 1]),
  // in float64 so that the score keeps all its bits.
  const std::string image_d = g.op("Cast", {s_image}, "nms/image_d", {{"to", int64_t{onnx::TensorProto::DOUBLE}}});
  const std::string score_d = g.op("Cast", {s_scores}, "nms/score_d", {{"to", int64_t{onnx::TensorProto::DOUBLE}}});
  const std::string key =
      g.op("Sub", {g.op("Mul", {image_d, g.scalar_double("four", 4.0)}, "nms/image_key"), score_d}, "nms/key");
  const std::string count = g.op("Shape", {key}, "nms/count");
  const auto order = g.op_multi("TopK", {key, count}, {"nms/sorted_keys", "nms/order"},
                                {{"axis", int64_t{0}}, {"largest", int64_t{0}}, {"sorted", int64_t{1}}});
  const std::string o_image = g.op("Gather", {s_image, order[1]}, "nms/sorted_image");
  // Rank within the image: a running count of each image's rows (CumSum over a one-hot matrix).
  const std::string batch = g.op("Gather", {image_shape, g.scalar_int("index0_b", 0)}, "nms/batch");
  const std::string image_ids = g.op("Range", {g.scalar_int("zero_i", 0), batch, g.scalar_int("one_i", 1)}, "nms/image_ids");
  const std::string o_image2 = g.op("Unsqueeze", {o_image, g.ints("axis1", {1})}, "nms/sorted_image2");  // (S, 1)
  const std::string one_hot = g.op("Cast", {g.op("Equal", {o_image2, image_ids}, "nms/one_hot_b")}, "nms/one_hot",
                                   {{"to", int64_t{onnx::TensorProto::INT64}}});  // (S, N)
  const std::string running = g.op("CumSum", {one_hot, g.scalar_int("axis0_s", 0)}, "nms/running");
  const std::string rank = g.op("Sub", {g.op("GatherElements", {running, o_image2}, "nms/count_so_far", {{"axis", int64_t{1}}}),
                                        g.scalar_int("one_r", 1)},
                                "nms/rank");  // (S, 1)
  const std::string keep = g.op("Less", {g.op("Squeeze", {rank, g.ints("axis1", {1})}, "nms/rank1"),
                                         g.scalar_int("detections_per_image", pp.detections_per_image)},
                                "nms/keep");
  auto final_output = [&](const std::string& value, const std::string& name) {
    return g.op("Compress", {g.op("Gather", {value, order[1]}, "nms/sorted_" + name), keep}, name, {{"axis", int64_t{0}}});
  };
  g.output(final_output(s_boxes, "boxes"), onnx::TensorProto::FLOAT, {"D", "4"});
  g.output(final_output(s_scores, "scores"), onnx::TensorProto::FLOAT, {"D"});
  g.output(final_output(s_labels, "labels"), onnx::TensorProto::INT64, {"D"});
  g.output(final_output(s_image, "batch_index"), onnx::TensorProto::INT64, {"D"});
}

}  // namespace

onnx::ModelProto build_onnx_model(const RetinaNet& model, const OnnxExportOptions& options) {
  MASKDET_CHECK(!model.is_training(), "ONNX export: the model must be in eval mode (batch norms use their running statistics)");
  const RetinaNetConfig& config = model.config();
  onnx::ModelProto proto;
  proto.set_ir_version(onnx::IR_VERSION);
  proto.set_producer_name("maskdet");
  proto.set_producer_version("1");
  proto.set_domain("maskdet");
  proto.set_doc_string("RetinaNet face-mask detector exported by `maskdet export` (docs/DEPLOY.md)");
  onnx::OperatorSetIdProto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOnnxOpset);
  for (const auto& [key, value] : options.metadata) {
    onnx::StringStringEntryProto* entry = proto.add_metadata_props();
    entry->set_key(key);
    entry->set_value(value);
  }
  onnx::GraphProto& graph = *proto.mutable_graph();
  graph.set_name("maskdet_retinanet");
  GraphWriter g(graph);
  g.relu6_as_relus = options.opencv_compatible;

  // Plain RGB in [0, 255] -> the ImageNet normalisation of the data pipeline (normalize.h),
  // (x / 255 - mean) / std = (x - 255 mean) / sqrt((255 std)^2): a BatchNormalization with
  // those statistics (one per-channel affine map that every runtime has).
  g.input("images", onnx::TensorProto::FLOAT, {"N", "3", "H", "W"});
  std::vector<float> mean(3), variance(3);
  for (size_t c = 0; c < 3; ++c) {
    mean[c] = 255.f * data::kImageNetMean[c];
    variance[c] = (255.f * data::kImageNetStd[c]) * (255.f * data::kImageNetStd[c]);
  }
  const std::string x = g.op("BatchNormalization",
                             {"images", g.floats("preprocess.scale", {1, 1, 1}, {3}), g.floats("preprocess.bias", {0, 0, 0}, {3}),
                              g.floats("preprocess.mean", mean, {3}), g.floats("preprocess.variance", variance, {3})},
                             "preprocess/normalised", {{"epsilon", 0.f}});

  const std::string body_path = "backbone.body";
  std::vector<std::string> c;
  if (const auto* net = dynamic_cast<const ResNet*>(model.body().get()))
    c = resnet(g, *net, body_path, x);
  else if (const auto* mobile = dynamic_cast<const MobileNetV2Features*>(model.body().get()))
    c = mobilenet_v2(g, *mobile, body_path, x);
  else
    MASKDET_FAIL("ONNX export: the backbone ", model.body()->name(), " is neither a ResNet nor a MobileNetV2");
  const std::vector<std::string> p = feature_pyramid(g, *model.fpn(), "backbone.fpn", c);

  const RetinaNetHead& head = *model.head();
  const int64_t num_classes = head.config().num_classes;
  std::vector<std::string> logits, deltas;
  for (size_t l = 0; l < p.size(); ++l) {
    const std::string tag = "/p" + std::to_string(l + 3);
    logits.push_back(head_subnet(g, *head.classification(), "head.classification_head", p[l], "cls_logits",
                                 num_classes, tag));
    deltas.push_back(head_subnet(g, *head.regression(), "head.regression_head", p[l], "bbox_reg", 4, tag));
  }
  g.output(g.op("Concat", logits, "cls_logits", {{"axis", int64_t{1}}}), onnx::TensorProto::FLOAT, {"N", "A", std::to_string(num_classes)});
  g.output(g.op("Concat", deltas, "bbox_regression", {{"axis", int64_t{1}}}), onnx::TensorProto::FLOAT, {"N", "A", "4"});
  if (!options.with_postprocess) return proto;

  const std::string image_shape = g.op("Shape", {"images"}, "image_shape");
  std::vector<LevelCandidates> levels;
  for (size_t l = 0; l < p.size(); ++l) {
    const std::string tag = "/p" + std::to_string(l + 3);
    const std::string anchors =
        level_anchors(g, image_shape, p[l], cell_anchors(config.anchors.sizes[l], config.anchors.aspect_ratios[l]), tag);
    levels.push_back(level_candidates(g, logits[l], deltas[l], anchors, num_classes, options.postprocess.topk_candidates, tag));
  }
  detections(g, levels, image_shape, config, options.postprocess);
  return proto;
}

void check_onnx_model(onnx::ModelProto& model) {
  try {
    onnx::checker::check_model(model);
    onnx::ShapeInferenceOptions strict{/*check_type=*/true, /*error_mode=*/1, /*enable_data_propagation=*/false};
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), strict);
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    MASKDET_FAIL("ONNX export: the model fails the ONNX checker: ", e.what());
  }
}

void write_onnx_model(const onnx::ModelProto& model, const std::string& path) {
  std::string bytes;
  MASKDET_CHECK(model.SerializeToString(&bytes), "ONNX export: could not serialise the model for ", path,
                " (protobuf messages are limited to 2 GiB)");
  write_file_atomically(path, bytes);
}

}  // namespace maskdet::app
