// csrc/addon/addon.cc — node-addon-api glue over falcon_h1.h.
// One wrapper class per handle (Model, Context); every slow call is one async worker template
// (RunAsync) that runs off the JS thread and settles a Promise. Weights stay in the C mmap.

#include <napi.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

extern "C" {
#include "../falcon_h1.h"
#include "../../quant/blocks.h"
}

namespace {

const char *StatusCode(fh1_status st) {
  switch (st) {
    case FH1_ERR_IO: return "ERR_IO";
    case FH1_ERR_FORMAT: return "ERR_FORMAT";
    case FH1_ERR_UNSUPPORTED: return "ERR_UNSUPPORTED";
    case FH1_ERR_ARG: return "ERR_ARG";
    case FH1_ERR_NOMEM: return "ERR_NOMEM";
    case FH1_ERR_CONTEXT_FULL: return "ERR_CONTEXT_FULL";
    case FH1_ERR_CANCELLED: return "ERR_CANCELLED";
    case FH1_ERR_BUSY: return "ERR_BUSY";
    default: return "ERR_UNKNOWN";
  }
}

Napi::Error MakeError(Napi::Env env, fh1_status st, const std::string &msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, StatusCode(st)));
  return e;
}

// End of an async job on the JS thread: run `finally`, then reject with the engine's error or
// resolve with make(env).
void Settle(Napi::Env env, Napi::Promise::Deferred &d, const std::function<void()> &finally, fh1_status st, const std::string &err,
            const std::function<Napi::Value(Napi::Env)> &make) {
  if (finally) finally();
  if (st != FH1_OK) {
    d.Reject(MakeError(env, st, err).Value());
    return;
  }
  d.Resolve(make(env));
}

// Runs `work` on the libuv pool; `done` builds the resolved value on the JS thread.
class Task : public Napi::AsyncWorker {
 public:
  using Work = std::function<fh1_status(std::string &err)>;
  using Done = std::function<Napi::Value(Napi::Env)>;

  static Napi::Promise Run(Napi::Env env, Work work, Done done, std::function<void()> finally = nullptr) {
    auto *t = new Task(env, std::move(work), std::move(done), std::move(finally));
    Napi::Promise p = t->deferred_.Promise();
    t->Queue();
    return p;
  }

 private:
  Task(Napi::Env env, Work work, Done done, std::function<void()> finally)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)), done_(std::move(done)),
        finally_(std::move(finally)) {}

  void Execute() override { status_ = work_(err_); }

  void OnOK() override {
    Settle(Env(), deferred_, finally_, status_, err_, [this](Napi::Env env) -> Napi::Value { return done_ ? done_(env) : env.Undefined(); });
  }

  Napi::Promise::Deferred deferred_;
  Work work_;
  Done done_;
  std::function<void()> finally_;
  fh1_status status_ = FH1_OK;
  std::string err_;
};

// ---- Model ---------------------------------------------------------------------------------

class Model : public Napi::ObjectWrap<Model> {
 public:
  static Napi::FunctionReference ctor;

  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "Model",
                                   {InstanceMethod("info", &Model::Info), InstanceMethod("free", &Model::Free),
                                    InstanceAccessor("freed", &Model::Freed, nullptr)});
    ctor = Napi::Persistent(f);
    exports.Set("Model", f);
  }

  Model(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Model>(info) {}
  ~Model() override { fh1_model_free(model_); }

  fh1_model *model_ = nullptr;
  std::atomic<int> contexts_{0};

 private:
  Napi::Value Info(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    if (!model_) throw MakeError(env, FH1_ERR_ARG, "model has been freed");
    fh1_model_info mi;
    fh1_model_get_info(model_, &mi);
    Napi::Object o = Napi::Object::New(env);
#define SET(k, v) o.Set(k, Napi::Number::New(env, (double)(v)))
    SET("nVocab", mi.n_vocab); SET("nEmbd", mi.n_embd); SET("nLayer", mi.n_layer); SET("nCtxTrain", mi.n_ctx_train);
    SET("nFf", mi.n_ff); SET("nHead", mi.n_head); SET("nHeadKv", mi.n_head_kv); SET("headDim", mi.head_dim);
    SET("ssmDInner", mi.ssm_d_inner); SET("ssmNHead", mi.ssm_n_head); SET("ssmHeadDim", mi.ssm_head_dim);
    SET("ssmDState", mi.ssm_d_state); SET("ssmNGroup", mi.ssm_n_group); SET("ssmDConv", mi.ssm_d_conv);
    SET("ropeTheta", mi.rope_theta); SET("rmsEps", mi.rms_eps); SET("nParams", mi.n_params);
    SET("fileBytes", mi.weight_bytes); SET("weightType", mi.weight_type);
#undef SET
    o.Set("ssmRmsNorm", Napi::Boolean::New(env, mi.ssm_rms_norm));
    o.Set("ssmNormBeforeGate", Napi::Boolean::New(env, mi.ssm_norm_before_gate));
    o.Set("hasMultipliers", Napi::Boolean::New(env, mi.has_multipliers));
    return o;
  }

  Napi::Value Free(const Napi::CallbackInfo &info) {
    if (contexts_ > 0) throw MakeError(info.Env(), FH1_ERR_BUSY, "free the model's contexts first");
    fh1_model_free(model_);
    model_ = nullptr;
    return info.Env().Undefined();
  }

  Napi::Value Freed(const Napi::CallbackInfo &info) { return Napi::Boolean::New(info.Env(), model_ == nullptr); }
};
Napi::FunctionReference Model::ctor;

Napi::Value LoadModel(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "loadModel(path: string, prefault?: boolean)");
  std::string path = info[0].As<Napi::String>();
  fh1_model_params mp = fh1_model_default_params();
  mp.prefault = info.Length() > 1 && info[1].ToBoolean();
  auto holder = std::make_shared<fh1_model *>(nullptr);
  return Task::Run(
      env,
      [path, mp, holder](std::string &err) {
        char buf[512] = {0};
        fh1_status st = fh1_model_load(path.c_str(), mp, holder.get(), buf, sizeof buf);
        err = buf;
        return st;
      },
      [holder](Napi::Env env) -> Napi::Value {
        Napi::Object obj = Model::ctor.New({});
        Model::Unwrap(obj)->model_ = *holder;
        return obj;
      });
}

// ---- Context -------------------------------------------------------------------------------

class Context : public Napi::ObjectWrap<Context> {
 public:
  static void Init(Napi::Env env, Napi::Object exports) {
    Napi::Function f = DefineClass(env, "Context",
                                   {InstanceMethod("decode", &Context::Decode), InstanceMethod("logits", &Context::Logits),
                                    InstanceMethod("reset", &Context::Reset), InstanceMethod("cancel", &Context::Cancel),
                                    InstanceMethod("saveState", &Context::SaveState), InstanceMethod("loadState", &Context::LoadState),
                                    InstanceMethod("decodeSequential", &Context::DecodeSequential),
                                    InstanceMethod("generate", &Context::Generate),
                                    InstanceMethod("free", &Context::Free), InstanceAccessor("nPast", &Context::NPast, nullptr),
                                    InstanceAccessor("nCtx", &Context::NCtx, nullptr),
                                    InstanceAccessor("nThreads", &Context::NThreads, nullptr),
                                    InstanceAccessor("busy", &Context::Busy, nullptr),
                                    InstanceAccessor("backend", &Context::Backend, nullptr)});
    exports.Set("Context", f);
  }

  // new Context(model, { nCtx, nBatch, nThreads, kvType: 0|1 })
  Context(const Napi::CallbackInfo &info) : Napi::ObjectWrap<Context>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "new Context(model, params)");
    Model *m = Model::Unwrap(info[0].As<Napi::Object>());
    if (!m->model_) throw MakeError(env, FH1_ERR_ARG, "model has been freed");
    fh1_context_params p = fh1_context_default_params();
    if (info.Length() > 1 && info[1].IsObject()) {
      Napi::Object o = info[1].As<Napi::Object>();
      auto num = [&](const char *k, int def) { return o.Has(k) && o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().Int32Value() : def; };
      p.n_ctx = num("nCtx", p.n_ctx);
      p.n_batch = num("nBatch", p.n_batch);
      p.n_threads = num("nThreads", p.n_threads);
      p.kv_type = (fh1_kv_type)num("kvType", p.kv_type);
      p.device = num("device", p.device);
      p.gpu_layers = num("gpuLayers", p.gpu_layers);
      p.split_mode = (fh1_split_mode)num("splitMode", p.split_mode);
      p.main_gpu = num("mainGpu", p.main_gpu);
    }
    char err[512] = {0};
    fh1_status st = fh1_context_new(m->model_, p, &ctx_, err, sizeof err);
    if (st != FH1_OK) throw MakeError(env, st, err);
    model_ref_ = Napi::Persistent(info[0].As<Napi::Object>());
    model_ = m;
    m->contexts_++;
  }

  ~Context() override { Release(); }

 private:
  void Release() {
    if (ctx_) {
      fh1_context_free(ctx_);
      ctx_ = nullptr;
      model_->contexts_--;
      model_ref_.Reset();
    }
  }

  fh1_context *Live(Napi::Env env) {
    if (!ctx_) throw MakeError(env, FH1_ERR_ARG, "context has been freed");
    return ctx_;
  }

  // info[0] as an Int32Array of token ids, copied for the worker thread; `usage` is the TypeError text.
  static std::vector<int32_t> TokensArg(const Napi::CallbackInfo &info, const char *usage) {
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
      throw Napi::TypeError::New(info.Env(), usage);
    Napi::Int32Array arr = info[0].As<Napi::Int32Array>();
    return std::vector<int32_t>(arr.Data(), arr.Data() + arr.ElementLength());
  }

  // Marks the context busy (one decode at a time) and keeps this wrapper alive while the worker
  // runs; the returned function undoes both on the JS thread when the worker is done.
  std::function<void()> ClaimForWorker(Napi::Env env) {
    bool expected = false;
    if (!running_.compare_exchange_strong(expected, true))
      throw MakeError(env, FH1_ERR_BUSY, "a decode is already running on this context");
    Ref();
    return [this]() {
      running_ = false;
      Unref();
    };
  }

  // decode(tokens: Int32Array, logitsAll: boolean): Promise<number /* rows of logits */>
  Napi::Value Decode(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    fh1_context *c = Live(env);
    auto tokens = std::make_shared<std::vector<int32_t>>(TokensArg(info, "decode(tokens: Int32Array, logitsAll?: boolean)"));
    const int all = info.Length() > 1 && info[1].ToBoolean();
    return Task::Run(
        env,
        [c, tokens, all](std::string &err) {
          char buf[512] = {0};
          fh1_status st = fh1_decode(c, tokens->data(), (int)tokens->size(), all, buf, sizeof buf);
          err = buf;
          return st;
        },
        [c](Napi::Env env) -> Napi::Value {
          int rows = 0;
          fh1_get_logits(c, &rows);
          return Napi::Number::New(env, rows);
        },
        ClaimForWorker(env));
  }

  // decodeSequential(tokens: Int32Array): Promise<number> — feeds the tokens one at a time in one
  // native call (the recurrent form, as generation does), keeping the last token's logits.
  Napi::Value DecodeSequential(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    fh1_context *c = Live(env);
    auto tokens = std::make_shared<std::vector<int32_t>>(TokensArg(info, "decodeSequential(tokens: Int32Array)"));
    return Task::Run(
        env,
        [c, tokens](std::string &err) {
          char buf[512] = {0};
          for (size_t i = 0; i < tokens->size(); i++) {
            fh1_status st = fh1_decode(c, tokens->data() + i, 1, 0, buf, sizeof buf);
            if (st != FH1_OK) {
              err = buf;
              return st;
            }
          }
          return FH1_OK;
        },
        [c](Napi::Env env) -> Napi::Value { return Napi::Number::New(env, fh1_n_past(c)); },
        ClaimForWorker(env));
  }

  // generate(prompt: Int32Array, opts, onTokens: (ids: Int32Array) => void): Promise<result>
  // Prefill, then sample → emit → decode in one native loop; ids reach JS in batches (no round
  // trip per token). Stops on a stop id (not decoded), nPredict, a full context or cancel().
  Napi::Value Generate(const Napi::CallbackInfo &info);

  // logits(): Float32Array of rows × nVocab (a copy; small next to the weights)
  Napi::Value Logits(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    fh1_context *c = Live(env);
    int rows = 0;
    const float *lg = fh1_get_logits(c, &rows);
    fh1_model_info mi;
    fh1_model_get_info(model_->model_, &mi);
    const size_t n = (size_t)rows * mi.n_vocab;
    Napi::Float32Array out = Napi::Float32Array::New(env, n);
    if (n) std::memcpy(out.Data(), lg, n * sizeof(float));
    return out;
  }

  Napi::Value Reset(const Napi::CallbackInfo &info) {
    fh1_context *c = Live(info.Env());
    if (running_) throw MakeError(info.Env(), FH1_ERR_BUSY, "a decode is running on this context");
    fh1_reset(c);
    return info.Env().Undefined();
  }

  Napi::Value Cancel(const Napi::CallbackInfo &info) {
    gen_cancel_ = true;
    if (ctx_) fh1_cancel(ctx_);
    return info.Env().Undefined();
  }

  Napi::Value SaveState(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    fh1_context *c = Live(env);
    if (running_) throw MakeError(env, FH1_ERR_BUSY, "a decode is running on this context");
    size_t n = fh1_state_size(c), written = 0;
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::New(env, n);
    fh1_status st = fh1_state_save(c, buf.Data(), n, &written);
    if (st != FH1_OK) throw MakeError(env, st, "cannot save state");
    return buf;
  }

  Napi::Value LoadState(const Napi::CallbackInfo &info) {
    Napi::Env env = info.Env();
    fh1_context *c = Live(env);
    if (running_) throw MakeError(env, FH1_ERR_BUSY, "a decode is running on this context");
    if (info.Length() < 1 || !info[0].IsTypedArray()) throw Napi::TypeError::New(env, "loadState(state: Uint8Array)");
    Napi::Uint8Array a = info[0].As<Napi::Uint8Array>();
    char err[256] = {0};
    fh1_status st = fh1_state_load(c, a.Data(), a.ByteLength(), err, sizeof err);
    if (st != FH1_OK) throw MakeError(env, st, err);
    return env.Undefined();
  }

  Napi::Value Free(const Napi::CallbackInfo &info) {
    if (running_) throw MakeError(info.Env(), FH1_ERR_BUSY, "a decode is running on this context");
    Release();
    return info.Env().Undefined();
  }

  Napi::Value NPast(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), ctx_ ? fh1_n_past(ctx_) : 0); }
  Napi::Value NCtx(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), ctx_ ? fh1_n_ctx(ctx_) : 0); }
  Napi::Value NThreads(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), ctx_ ? fh1_n_threads(ctx_) : 0); }
  Napi::Value Busy(const Napi::CallbackInfo &info) { return Napi::Boolean::New(info.Env(), running_.load()); }
  Napi::Value Backend(const Napi::CallbackInfo &info) { return Napi::String::New(info.Env(), ctx_ ? fh1_context_backend(ctx_) : ""); }

  fh1_context *ctx_ = nullptr;
  Model *model_ = nullptr;
  Napi::ObjectReference model_ref_;
  std::atomic<bool> running_{false};
  std::atomic<bool> gen_cancel_{false};
};


// ---- generation ----------------------------------------------------------------------------

struct GenerateResult {
  int n_prompt = 0, n_gen = 0;
  double prompt_ms = 0, gen_ms = 0;
  const char *stop = "length";
  int32_t stop_token = -1;
};

class GenerateWorker : public Napi::AsyncProgressQueueWorker<int32_t> {
 public:
  GenerateWorker(Napi::Function cb, Napi::Promise::Deferred deferred, fh1_context *c, int n_vocab, std::vector<int32_t> prompt,
                 std::vector<int32_t> stops, int n_predict, fh1_sampler_params sp, std::function<void()> finally)
      : Napi::AsyncProgressQueueWorker<int32_t>(cb), deferred_(deferred), c_(c), n_vocab_(n_vocab), prompt_(std::move(prompt)),
        stops_(std::move(stops)), n_predict_(n_predict), sp_(sp), finally_(std::move(finally)) {}

  void Execute(const ExecutionProgress &progress) override {
    char err[512] = {0};
    fh1_sampler *smp = fh1_sampler_new(sp_, n_vocab_);
    if (!smp) {
      status_ = FH1_ERR_NOMEM;
      err_ = "out of memory for the sampler";
      return;
    }
    auto now = [] { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count(); };
    double t0 = now();
    for (int32_t t : prompt_) fh1_sampler_accept(smp, t);
    // each decode also chooses the next token (on the GPU when the head is there: only the id
    // crosses back); `next` is the token the loop emits next
    int32_t next = -1;
    if (!prompt_.empty()) {
      fh1_status st = fh1_decode_sample(c_, prompt_.data(), (int)prompt_.size(), smp, &next, err, sizeof err);
      if (st != FH1_OK) {
        status_ = st;
        err_ = err;
        fh1_sampler_free(smp);
        return;
      }
    } else {
      int rows = 0;
      const float *lg = fh1_get_logits(c_, &rows);
      if (rows < 1) {
        status_ = FH1_ERR_ARG;
        err_ = "nothing to continue from: the prompt is empty and the context has no logits";
        fh1_sampler_free(smp);
        return;
      }
      next = fh1_sampler_sample(smp, lg + (size_t)(rows - 1) * n_vocab_);
    }
    res_.n_prompt = (int)prompt_.size();
    double t1 = now();
    res_.prompt_ms = t1 - t0;
    for (int i = 0; n_predict_ < 0 || i < n_predict_; i++) {
      const int32_t tok = next;
      bool is_stop = false;
      for (int32_t s : stops_) is_stop = is_stop || s == tok;
      if (is_stop) {
        res_.stop = "eos";
        res_.stop_token = tok;
        break;
      }
      fh1_sampler_accept(smp, tok);
      progress.Send(&tok, 1);
      res_.n_gen++;
      if (fh1_n_past(c_) >= fh1_n_ctx(c_)) {
        res_.stop = "context";
        break;
      }
      fh1_status st = fh1_decode_sample(c_, &tok, 1, smp, &next, err, sizeof err);
      if (st == FH1_ERR_CANCELLED) {
        res_.stop = "cancelled";
        break;
      }
      if (st != FH1_OK) {
        status_ = st;
        err_ = err;
        break;
      }
      if (cancelled_ && cancelled_->load()) {
        res_.stop = "cancelled";
        break;
      }
    }
    res_.gen_ms = now() - t1;
    fh1_sampler_free(smp);
  }

  void OnProgress(const int32_t *data, size_t count) override {
    Napi::Env env = Env();
    Napi::Int32Array ids = Napi::Int32Array::New(env, count);
    std::memcpy(ids.Data(), data, count * sizeof(int32_t));
    if (!Callback().IsEmpty()) Callback().Call(Receiver().Value(), {ids});
  }

  void OnOK() override {
    Settle(Env(), deferred_, finally_, status_, err_, [this](Napi::Env env) -> Napi::Value {
      Napi::Object o = Napi::Object::New(env);
      o.Set("nPrompt", res_.n_prompt);
      o.Set("nGen", res_.n_gen);
      o.Set("promptMs", res_.prompt_ms);
      o.Set("genMs", res_.gen_ms);
      o.Set("stop", res_.stop);
      o.Set("stopToken", res_.stop_token);
      return o;
    });
  }

  void OnError(const Napi::Error &e) override {
    if (finally_) finally_();
    deferred_.Reject(e.Value());
  }

  std::atomic<bool> *cancelled_ = nullptr;

 private:
  Napi::Promise::Deferred deferred_;
  fh1_context *c_;
  int n_vocab_;
  std::vector<int32_t> prompt_, stops_;
  int n_predict_;
  fh1_sampler_params sp_;
  std::function<void()> finally_;
  fh1_status status_ = FH1_OK;
  std::string err_;
  GenerateResult res_;
};

Napi::Value Context::Generate(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  fh1_context *c = Live(env);
  static const char *usage = "generate(prompt: Int32Array, opts: object, onTokens: function)";
  std::vector<int32_t> prompt = TokensArg(info, usage);
  if (info.Length() < 3 || !info[1].IsObject() || !info[2].IsFunction()) throw Napi::TypeError::New(env, usage);
  Napi::Object o = info[1].As<Napi::Object>();
  auto num = [&](const char *k, double def) { return o.Has(k) && o.Get(k).IsNumber() ? o.Get(k).As<Napi::Number>().DoubleValue() : def; };
  fh1_sampler_params sp = fh1_sampler_default_params();
  sp.temp = (float)num("temp", sp.temp);
  sp.top_k = (int)num("topK", sp.top_k);
  sp.top_p = (float)num("topP", sp.top_p);
  sp.min_p = (float)num("minP", sp.min_p);
  sp.repeat_penalty = (float)num("repeatPenalty", sp.repeat_penalty);
  sp.repeat_last_n = (int)num("repeatLastN", sp.repeat_last_n);
  sp.presence_penalty = (float)num("presencePenalty", sp.presence_penalty);
  sp.frequency_penalty = (float)num("frequencyPenalty", sp.frequency_penalty);
  sp.seed = (uint64_t)num("seed", 0);
  const int n_predict = (int)num("nPredict", -1);
  std::vector<int32_t> stops;
  if (o.Has("stopTokens") && o.Get("stopTokens").IsTypedArray()) {
    Napi::Int32Array st = o.Get("stopTokens").As<Napi::Int32Array>();
    stops.assign(st.Data(), st.Data() + st.ElementLength());
  }
  fh1_model_info mi;
  fh1_model_get_info(model_->model_, &mi);
  for (int32_t t : prompt)
    if (t < 0 || t >= mi.n_vocab) throw MakeError(env, FH1_ERR_ARG, "prompt token id " + std::to_string(t) + " is out of range");
  std::function<void()> release = ClaimForWorker(env);
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  gen_cancel_ = false;
  auto *w = new GenerateWorker(info[2].As<Napi::Function>(), deferred, c, mi.n_vocab, std::move(prompt), std::move(stops), n_predict, sp, std::move(release));
  w->cancelled_ = &gen_cancel_;
  w->Queue();
  return deferred.Promise();
}

Napi::Value SimdName(const Napi::CallbackInfo &info) { return Napi::String::New(info.Env(), fh1_simd_name()); }

// dropPageCache(path): boolean — writes the file's dirty pages back and evicts its pages from the
// page cache (POSIX_FADV_DONTNEED; false where the platform lacks it or the file cannot be opened).
Napi::Value DropPageCache(const Napi::CallbackInfo &info) {
  if (info.Length() < 1 || !info[0].IsString()) {
    Napi::TypeError::New(info.Env(), "dropPageCache(path: string)").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  bool dropped = false;
#ifdef POSIX_FADV_DONTNEED
  const std::string path = info[0].As<Napi::String>();
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    dropped = fdatasync(fd) == 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
    close(fd);
  }
#endif
  return Napi::Boolean::New(info.Env(), dropped);
}

// quantize(type: number, values: Float32Array): Buffer — ggml-exact reference quantization of
// whole rows (values.length must be a multiple of the type's block size).
Napi::Value Quantize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, "quantize(type: number, values: Float32Array)");
  const int type = info[0].As<Napi::Number>().Int32Value();
  Napi::Float32Array src = info[1].As<Napi::Float32Array>();
  const int bs = fh1_type_block_size(type);
  if (!bs) throw MakeError(env, FH1_ERR_UNSUPPORTED, "cannot quantize to this type");
  const int64_t n = (int64_t)src.ElementLength();
  if (n % bs) throw MakeError(env, FH1_ERR_ARG, "length is not a multiple of the block size");
  Napi::Buffer<uint8_t> out = Napi::Buffer<uint8_t>::New(env, (size_t)(n / bs) * fh1_type_size(type));
  fh1_quantize_row(type, src.Data(), out.Data(), n);
  return out;
}

// quantizeRows(type, values: Float32Array, nrows, ncols, nThreads): Promise<Buffer> — off the JS
// thread, rows split over threads. The input array must stay alive: it is referenced until done.
Napi::Value QuantizeRows(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 5 || !info[0].IsNumber() || !info[1].IsTypedArray() || info[1].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(env, "quantizeRows(type, values: Float32Array, nrows, ncols, nThreads)");
  const int type = info[0].As<Napi::Number>().Int32Value();
  Napi::Float32Array src = info[1].As<Napi::Float32Array>();
  const int64_t nrows = info[2].As<Napi::Number>().Int64Value(), ncols = info[3].As<Napi::Number>().Int64Value();
  const int nth = info[4].As<Napi::Number>().Int32Value();
  const int bs = fh1_type_block_size(type);
  if (!bs || type == GGML_TYPE_Q8_K) throw MakeError(env, FH1_ERR_UNSUPPORTED, "cannot quantize to this type");
  if (nrows < 0 || ncols <= 0 || ncols % bs || (size_t)(nrows * ncols) != src.ElementLength())
    throw MakeError(env, FH1_ERR_ARG, "shape does not match the values or the block size");
  const size_t bytes = (size_t)(ncols / bs) * fh1_type_size(type) * (size_t)nrows;
  auto out = std::make_shared<std::vector<uint8_t>>(bytes);
  auto keep = std::make_shared<Napi::Reference<Napi::Float32Array>>(Napi::Persistent(src));
  const float *data = src.Data();
  return Task::Run(
      env,
      [=](std::string &) {
        fh1_quantize_rows(type, data, out->data(), nrows, ncols, nth);
        return FH1_OK;
      },
      [out, keep](Napi::Env env) -> Napi::Value {
        keep->Reset();
        return Napi::Buffer<uint8_t>::Copy(env, out->data(), out->size());
      });
}

// dequantize(type: number, bytes: Uint8Array, n: number): Float32Array
Napi::Value Dequantize(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsNumber())
    throw Napi::TypeError::New(env, "dequantize(type: number, bytes: Uint8Array, n: number)");
  const int type = info[0].As<Napi::Number>().Int32Value();
  Napi::Uint8Array src = info[1].As<Napi::Uint8Array>();
  const int64_t n = info[2].As<Napi::Number>().Int64Value();
  const int bs = fh1_type_block_size(type);
  if (!bs || n < 0 || n % bs || (size_t)(n / bs) * fh1_type_size(type) != src.ByteLength())
    throw MakeError(env, FH1_ERR_ARG, "byte length does not match the element count");
  Napi::Float32Array out = Napi::Float32Array::New(env, (size_t)n);
  fh1_dequantize_row(type, src.Data(), out.Data(), n);
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Model::Init(env, exports);
  Context::Init(env, exports);
  exports.Set("loadModel", Napi::Function::New(env, LoadModel));
  exports.Set("simdName", Napi::Function::New(env, SimdName));
  exports.Set("dropPageCache", Napi::Function::New(env, DropPageCache));
  exports.Set("quantize", Napi::Function::New(env, Quantize));
  exports.Set("dequantize", Napi::Function::New(env, Dequantize));
  exports.Set("quantizeRows", Napi::Function::New(env, QuantizeRows));
  exports.Set("cudaDevices", Napi::Function::New(env, [](const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), fh1_cuda_devices()); }));
  return exports;
}

}  // namespace

NODE_API_MODULE(falcon_h1, Init)
