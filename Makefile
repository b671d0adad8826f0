# Convenience targets; ./dev is the real entry point (it also works where make is absent).
.PHONY: demo test bench setup
demo: ; ./dev demo
test: ; ./dev test
bench: ; ./dev bench
setup: ; ./dev setup
