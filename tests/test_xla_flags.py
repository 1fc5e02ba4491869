from lineart_jax import _xla_flags


def test_cpu_flag_is_added_on_cpu_and_skipped_with_a_gpu_plugin(monkeypatch):
  monkeypatch.setattr(_xla_flags.sys, "modules", {})  # as if JAX had not started
  monkeypatch.delenv("LINEART_JAX_KEEP_XLA_FLAGS", raising=False)
  monkeypatch.delenv("JAX_PLATFORMS", raising=False)
  monkeypatch.setenv("XLA_FLAGS", "--xla_foo=1")
  monkeypatch.setattr(_xla_flags.importlib.util, "find_spec", lambda name: None)
  assert _xla_flags.add_cpu_conv_flag()
  assert _xla_flags.os.environ["XLA_FLAGS"] == "--xla_foo=1 " + _xla_flags.CPU_CONV_FLAG

  monkeypatch.setenv("XLA_FLAGS", "")
  monkeypatch.setattr(_xla_flags.importlib.util, "find_spec",
                      lambda name: object() if name == "jax_cuda12_plugin" else None)
  assert not _xla_flags.add_cpu_conv_flag()
  assert _xla_flags.os.environ["XLA_FLAGS"] == ""
  monkeypatch.setenv("JAX_PLATFORMS", "cpu")
  assert _xla_flags.add_cpu_conv_flag()
