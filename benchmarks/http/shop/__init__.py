"""The benchmark's one app: orders, and a receipt written for each one."""
