"""One running network of node processes shared by the modules of this package (see conftest)."""
