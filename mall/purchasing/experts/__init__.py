"""Random expert acceptance (随机抽取专家验收): the expert pool, draws and experts' acceptance."""
