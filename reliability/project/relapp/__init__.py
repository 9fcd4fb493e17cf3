"""The reliability project's one app. Importing the package itself imports no
Django code, so the test process can use relapp.flaky and relapp.forged."""
