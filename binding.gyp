{
  "targets": [
    {
      "target_name": "falcon_h1",
      "sources": [
        "csrc/addon/addon.cc",
        "csrc/gguf.c",
        "csrc/model.c",
        "csrc/context.c",
        "csrc/sample.c",
        "csrc/cpu/forward.c",
        "csrc/cpu/threads.c",
        "csrc/cpu/simd_select.c",
        "csrc/cpu/simd_scalar.c",
        "csrc/cpu/simd_avx2.c",
        "csrc/cpu/simd_avx512.c",
        "csrc/cpu/simd_neon.c",
        "quant/quants.c"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_CPP_EXCEPTIONS", "NAPI_VERSION=8"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags": ["-O3", "-ffp-contract=off", "-Wall", "-Wno-unused-parameter", "-Wno-unused-function"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-std=c++17", "-fexceptions"],
      "libraries": ["-lm", "-lpthread"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CFLAGS": ["-O3", "-ffp-contract=off"]
      }
    }
  ]
}
