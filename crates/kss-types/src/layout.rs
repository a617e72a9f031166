//! Declares each structure's layout once: the `layout!` macro takes the fields in order,
//! with their types, and derives from it the offsets, the size check, `from_bytes` and
//! `to_bytes`. A field's size is its type's [`Field::SIZE`].

/// A fixed-size little-endian field of an SGX structure.
pub trait Field: Sized {
    /// Encoded size in bytes.
    const SIZE: usize;
    /// The all-zero value.
    const ZERO: Self;
    /// Reads the field from `b[off..off + SIZE]` (the caller checked the length).
    fn read(b: &[u8], off: usize) -> Self;
    /// Writes the field to `b[off..off + SIZE]` (the caller sized the buffer).
    fn write(&self, b: &mut [u8], off: usize);
}

macro_rules! int_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            const ZERO: Self = 0;
            fn read(b: &[u8], off: usize) -> Self {
                <$t>::from_le_bytes(crate::bytes::arr(b, off))
            }
            fn write(&self, b: &mut [u8], off: usize) {
                crate::bytes::put(b, off, &self.to_le_bytes());
            }
        }
    )*};
}
int_field!(u8, u16, u32, u64);

impl<const N: usize> Field for [u8; N] {
    const SIZE: usize = N;
    const ZERO: Self = [0; N];
    fn read(b: &[u8], off: usize) -> Self {
        crate::bytes::arr(b, off)
    }
    fn write(&self, b: &mut [u8], off: usize) {
        crate::bytes::put(b, off, self);
    }
}

/// A field that is a newtype around another [`Field`] (`Id128([u8; 16])`, `MiscSelect(u32)`,
/// ...).
macro_rules! newtype_field {
    ($($t:ty => $inner:ty),* $(,)?) => {$(
        impl $crate::layout::Field for $t {
            const SIZE: usize = <$inner as $crate::layout::Field>::SIZE;
            const ZERO: Self = Self(<$inner as $crate::layout::Field>::ZERO);
            fn read(b: &[u8], off: usize) -> Self {
                Self(<$inner as $crate::layout::Field>::read(b, off))
            }
            fn write(&self, b: &mut [u8], off: usize) {
                $crate::layout::Field::write(&self.0, b, off)
            }
        }
    )*};
}
pub(crate) use newtype_field;

/// Declares an SGX structure once and derives the rest from that declaration:
///
/// * the struct, with its fields in layout order;
/// * `pub mod $offsets`: one `usize` constant per field, each the previous one plus the previous
///   field's size, and a compile-time check that the fields add up to `$size`;
/// * `SIZE`, `from_bytes` (checks the length, never panics), `to_bytes` (writes every field,
///   reserved ones included), a [`Field`] impl (so the structure can be a field of another) and
///   `ZEROED` (every field zero).
macro_rules! layout {
    (
        $(#[$attr:meta])*
        pub struct $name:ident ($label:literal, $size:literal, mod $offsets:ident) {
            $(
                $(#[$fattr:meta])*
                pub $field:ident : $ty:ty => $off:ident,
            )+
        }
    ) => {
        $(#[$attr])*
        pub struct $name {
            $( $(#[$fattr])* pub $field: $ty, )+
        }

        #[doc = concat!("Field offsets within ", $label, ", derived from the field sizes.")]
        pub mod $offsets {
            #[allow(unused_imports)]
            use super::*;
            $crate::layout::layout!(@offsets $name, $size, (0); $($field: $ty => $off,)+);
        }

        impl $name {
            /// Encoded size.
            pub const SIZE: usize = $size;

            /// Every field zero.
            #[allow(dead_code)]
            pub(crate) const ZEROED: Self = Self {
                $( $field: <$ty as $crate::layout::Field>::ZERO, )+
            };

            #[doc = concat!("Parses exactly ", stringify!($size), " bytes.")]
            pub fn from_bytes(b: &[u8]) -> Result<Self, $crate::LayoutError> {
                $crate::error::check_len($label, b, $size)?;
                Ok(<Self as $crate::layout::Field>::read(b, 0))
            }

            #[doc = concat!("Encodes to ", stringify!($size), " bytes.")]
            pub fn to_bytes(&self) -> [u8; $size] {
                let mut b = [0u8; $size];
                $crate::layout::Field::write(self, &mut b, 0);
                b
            }
        }

        impl $crate::layout::Field for $name {
            const SIZE: usize = $size;
            const ZERO: Self = Self::ZEROED;
            fn read(b: &[u8], off: usize) -> Self {
                Self {
                    $( $field: <$ty as $crate::layout::Field>::read(b, off + $offsets::$off), )+
                }
            }
            fn write(&self, b: &mut [u8], off: usize) {
                $( $crate::layout::Field::write(&self.$field, b, off + $offsets::$off); )+
            }
        }
    };

    (@offsets $name:ident, $size:literal, ($at:expr); $field:ident: $ty:ty => $off:ident, $($rest:tt)*) => {
        #[doc = concat!(
            "Offset of `", stringify!($name), "::", stringify!($field), "` (`", stringify!($ty), "`)."
        )]
        pub const $off: usize = $at;
        $crate::layout::layout!(
            @offsets $name, $size, ($off + <$ty as $crate::layout::Field>::SIZE); $($rest)*
        );
    };
    (@offsets $name:ident, $size:literal, ($at:expr);) => {
        const _: () = assert!($at == $size, "the fields do not add up to the declared size");
    };
}
pub(crate) use layout;
