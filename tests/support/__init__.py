"""Helpers the tests share: fixtures' building blocks, fakes of the ports, browser keys."""
