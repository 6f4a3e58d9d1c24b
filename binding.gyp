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
      "variables": {
        "cuda%": "<!(sh -c 'if [ \"${FALCON_H1_CUDA:-1}\" != 0 ] && command -v nvcc >/dev/null 2>&1; then echo 1; else echo 0; fi')",
        "metal%": "<!(sh -c 'if [ \"${FALCON_H1_METAL:-1}\" != 0 ]; then echo 1; else echo 0; fi')",
        "cuda_home%": "<!(sh -c 'for d in \"$CUDA_HOME\" \"$CUDA_PATH\" /usr/local/cuda \"$(dirname $(dirname $(readlink -f $(command -v nvcc 2>/dev/null || echo /x/x/x))))\"; do if [ -n \"$d\" ] && [ -f \"$d/include/cuda_runtime.h\" ]; then echo $d; exit 0; fi; done; echo /usr/local/cuda')"
      },
      "conditions": [
        ["OS=='mac' and metal==1", {
          "sources": ["csrc/metal/backend.mm"],
          "defines": ["FH1_METAL"],
          "link_settings": {"libraries": ["-framework Metal", "-framework Foundation"]},
          "xcode_settings": {"CLANG_ENABLE_OBJC_ARC": "YES", "MACOSX_DEPLOYMENT_TARGET": "13.0"}
        }],
        ["cuda==1", {
          "sources": ["csrc/cuda/backend.cu"],
          "defines": ["FH1_CUDA"],
          "include_dirs": ["<(cuda_home)/include"],
          "libraries": ["-L<(cuda_home)/lib64", "-lcudart_static", "-ldl", "-lrt"],
          "rules": [{
            "rule_name": "nvcc",
            "extension": "cu",
            "inputs": ["<(RULE_INPUT_PATH)", "csrc/model.h", "csrc/falcon_h1.h", "csrc/gguf.h", "csrc/cuda/backend.h", "quant/blocks.h"],
            "outputs": ["<(INTERMEDIATE_DIR)/<(RULE_INPUT_ROOT).o"],
            "action": ["nvcc", "-O3", "-std=c++17", "-Xcompiler", "-fPIC",
                       "-gencode", "arch=compute_80,code=sm_80", "-gencode", "arch=compute_90a,code=sm_90a",
                       "-gencode", "arch=compute_90,code=compute_90",
                       "-c", "<(RULE_INPUT_PATH)", "-o", "<@(_outputs)"],
            "message": "nvcc <(RULE_INPUT_PATH)",
            "process_outputs_as_sources": 1
          }]
        }]
      ],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CFLAGS": ["-O3", "-ffp-contract=off"]
      }
    }
  ]
}
