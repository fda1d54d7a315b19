"""Bulk import of offers (批量导入): streaming readers, row validation, the import job."""
