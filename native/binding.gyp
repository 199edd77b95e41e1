{
  "targets": [
    { "target_name": "pump", "sources": ["pump.c"], "libraries": ["-lpthread"] },
    {
      "target_name": "fetcher",
      "conditions": [["OS=='linux'", { "sources": ["fetcher.c"], "libraries": ["-lpthread"] }, { "type": "none" }]]
    }
  ]
}
