"""Invoice lines and totals, printed in the invoice's currency."""

from dataclasses import dataclass, field

from shop.money import format_amount, to_minor


@dataclass
class Invoice:
    currency: str
    lines: list[tuple[str, int]] = field(default_factory=list)

    def add(self, label, price_text, quantity=1):
        """Add a line; the price is given as text in the invoice's currency."""
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        self.lines.append((label, to_minor(price_text, self.currency) * quantity))

    def total(self):
        return sum(amount for _, amount in self.lines)

    def render(self):
        """One line per item and the total, amounts right-aligned."""
        rows = [(label, format_amount(amount, self.currency)) for label, amount in self.lines]
        rows.append(("Total", format_amount(self.total(), self.currency)))
        width = max(len(text) for _, text in rows)
        return "\n".join(f"{label:<20}{text:>{width}} {self.currency}" for label, text in rows)
