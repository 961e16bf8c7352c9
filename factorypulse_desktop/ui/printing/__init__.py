"""Documents printed or saved as PDF with Qt (QPdfWriter): purchase orders, RFQs, labels."""
