"""Files in and out: readers, import (options, columns, values, geometry, routing, hooks, write), export.

Nothing here commits or rolls back: the caller owns the transaction.
"""
