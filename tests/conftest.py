import icl  # noqa: F401  (first: pins the kernel set, icl.arithmetic, before torch and numpy load)

# isort: split
import pytest
import torch


def pytest_addoption(parser):
    parser.addoption("--executed", default=None, help="folder of executed chapter notebooks to check")
    parser.addoption("--site", default=None, help="folder of the built HTML site to open in the browser")
    parser.addoption("--other", default=None, help="folder of the same chapters executed under another arithmetic")


@pytest.fixture
def executed_dir(request):
    path = request.config.getoption("--executed")
    if path is None:
        pytest.skip("needs --executed DIR (run by `make test` after the chapters are executed)")
    return path


@pytest.fixture
def site_dir(request):
    path = request.config.getoption("--site")
    if path is None:
        pytest.skip("needs --site DIR (run by `make browser-test` after the book is built)")
    return path


@pytest.fixture(autouse=True)
def _deterministic():
    torch.manual_seed(0)
