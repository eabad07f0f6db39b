# The native shim, built by `npm ci` (package.json's prepare runs scripts/build-native-shim.mjs,
# which runs npm's own node-gyp here). Plain C against Node-API: no node-addon-api, no C++ code.
{
  "targets": [
    {
      "target_name": "shim",
      "sources": ["src/shim.c"],
      "cflags": ["-std=c11"],
      "defines": ["_GNU_SOURCE", "NAPI_VERSION=8"]
    }
  ]
}
